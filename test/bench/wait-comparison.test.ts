import { test } from 'tap'
import { formatMarkdown, formatTable, type BenchReport, type ScenarioResult } from '../../bench/report.ts'
import { summariseWait } from '../../bench/wait-summary.ts'

const run = (reqPerSec: number | null, p99: number, failures: Partial<Record<'errors' | 'non2xx', number>> = {}): ScenarioResult => ({
  name: 'start',
  reqPerSec,
  p50: 1,
  p99,
  errors: failures.errors ?? 0,
  non2xx: failures.non2xx ?? 0,
  floor: null,
  ratio: null,
  serverCpuMicrosPerRequest: null,
  statusCodes: {}
})

const report = (replicaWait: BenchReport['replicaWait']): BenchReport => ({
  ranAt: '2026-12-04T00:00:00.000Z',
  machine: 'test',
  settings: { durationSeconds: 1, warmupSeconds: 1, connections: 1 },
  scenarios: [],
  workers: null,
  enumeration: null,
  metrics: null,
  replicaWait,
  totalSeconds: 1,
  warnings: []
})

test('each side is the median over rounds, the ratios the median of the rounds\' WAIT 1 ÷ WAIT 0', async (t) => {
  const row = summariseWait('start', [
    { 0: run(1000, 100), 1: run(800, 150) },
    { 0: run(900, 120), 1: run(810, 120, { non2xx: 3 }) },
    { 0: run(1100, 80, { errors: 2 }), 1: run(550, 160) }
  ])
  t.same(row, {
    scenario: 'start',
    wait0ReqPerSec: 1000,
    wait1ReqPerSec: 800,
    ratio: 0.8,
    roundRatios: [0.8, 0.9, 0.5],
    wait0P99: 100,
    wait1P99: 150,
    p99Ratio: 1.5,
    wait0Errors: 2,
    wait0Non2xx: 0,
    wait1Errors: 0,
    wait1Non2xx: 3,
    rounds: 3
  })
})

test('a round that measured an empty pool is left out of the figures, not of the failures', async (t) => {
  const row = summariseWait('verify', [
    { 0: run(400, 200), 1: run(300, 300) },
    { 0: run(null, 5, { non2xx: 7 }), 1: run(350, 250) }
  ])
  t.equal(row.rounds, 1)
  t.same(row.roundRatios, [0.75])
  t.equal(row.wait1ReqPerSec, 300)
  t.equal(row.wait0Non2xx, 7)
})

test('the p99 ratio is of the sides\' medians: one disturbed run does not swing it', async (t) => {
  // the first verify run of each round had a slow tail (a fresh app), on the WAIT 0 side in one, WAIT 1 in the other
  const row = summariseWait('verify', [
    { 0: run(375, 1392), 1: run(330, 403) },
    { 0: run(642, 223), 1: run(502, 1246) }
  ])
  t.equal(row.wait0P99, 808)
  t.equal(row.wait1P99, 825)
  t.equal(row.p99Ratio, 1.02)
})

test('no round with figures on both sides: no figures', async (t) => {
  const row = summariseWait('me', [{ 0: run(null, 5), 1: run(100, 5) }])
  t.equal(row.wait0ReqPerSec, null)
  t.equal(row.ratio, null)
  t.equal(row.p99Ratio, null)
})

test('the terminal table and latest.md give both sides, the ratios and the failures', async (t) => {
  const scenarios = [summariseWait('start', [{ 0: run(1000, 100), 1: run(800, 150, { errors: 1, non2xx: 2 }) }])]
  const section = report({ rounds: 1, scenarios })
  for (const text of [formatTable(section), formatMarkdown(section)]) {
    t.match(text, /REDIS_WAIT_REPLICAS/)
    t.match(text, /req\/s WAIT 0.*req\/s WAIT 1.*ratio.*p99 ms WAIT 0.*p99 ms WAIT 1.*p99 ratio/)
    t.match(text, /start\W+1000\W+800\W+0\.80\W+0\.80\W+100\W+150\W+1\.50\W+0\/0\W+1\/2/)
  }
})

test('a skipped section says why', async (t) => {
  const section = report({ skipped: 'TEST_REDIS_SENTINELS is not set' })
  t.match(formatTable(section), /replica wait: skipped: TEST_REDIS_SENTINELS is not set/)
  t.match(formatMarkdown(section), /replica wait: skipped: TEST_REDIS_SENTINELS is not set/)
  t.notMatch(formatTable(report(null)), /replica wait/)
})
