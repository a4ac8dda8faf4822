import { test } from 'tap'
import { combineRounds, withRatios } from '../../bench/rounds.ts'
import { formatMarkdown, formatTable, type ScenarioResult } from '../../bench/report.ts'
import { benchReport } from '../helpers/bench-report.ts'

const run = (
  name: string, floor: string | null, reqPerSec: number | null, p99: number, cpu: number,
  extra: Partial<ScenarioResult> = {}
): ScenarioResult => ({
  name,
  reqPerSec,
  p50: p99 / 2,
  p99,
  errors: 0,
  non2xx: 0,
  floor,
  ratio: null,
  serverCpuMicrosPerRequest: cpu,
  statusCodes: { 200: 10 },
  ...extra
})

const report = (scenarios: ScenarioResult[]) => benchReport(scenarios, 3)

// three rounds of verify beside its floor; the machine drifts: round 2 is slow for both
const rounds = [
  [run('verify', 'floor-verify', 900, 200, 600), run('floor-verify', null, 1000, 100, 400), run('flow', null, 500, 90, 700)],
  [
    run('verify', 'floor-verify', 450, 400, 900, { errors: 2, non2xx: 1, statusCodes: { 200: 9, 503: 1 } }),
    run('floor-verify', null, 600, 150, 500)
  ],
  [run('verify', 'floor-verify', 800, 180, 520), run('floor-verify', null, 1000, 120, 300)]
]

test('one round: its results with each endpoint\'s ratios to its floor', async (t) => {
  const [verify, floor, flow] = combineRounds([rounds[0]!])
  t.match(verify, { ratio: 0.9, p99Ratio: 2, cpuRatio: 1.5 })
  t.equal(verify!.rounds, undefined, 'no per-round figures for one round')
  t.match(floor, { ratio: null, cpuRatio: null })
  t.match(flow, { ratio: null, cpuRatio: null })
})

test('several rounds: medians of the figures, the ratios the medians of each round\'s own, failures summed', async (t) => {
  const combined = combineRounds(rounds)
  t.same(combined.map((result) => result.name), ['verify', 'floor-verify', 'flow'], 'the first round\'s order')
  const [verify, floor, flow] = combined
  t.match(verify, { reqPerSec: 800, p99: 200, serverCpuMicrosPerRequest: 600, errors: 2, non2xx: 1 })
  // per round: 0.9, 0.75, 0.8 (req/s); 1.5, 1.8, 1.73 (CPU; the medians' ratio would be 600 / 400); 2, 2.67, 1.5 (p99)
  t.match(verify, { ratio: 0.8, cpuRatio: 1.73, p99Ratio: 2 })
  t.same(verify!.statusCodes, { 200: 29, 503: 1 })
  t.same(verify!.rounds!.map((round) => round.cpuRatio), [1.5, 1.8, 1.73])
  t.match(floor, { reqPerSec: 1000, serverCpuMicrosPerRequest: 400 })
  t.equal(flow!.rounds, undefined, 'a scenario run once keeps no per-round figures')
  t.equal(flow!.reqPerSec, 500)
})

test('the median of paired ratios, not the ratio of medians: each round\'s endpoint against its own floor', async (t) => {
  // CPU µs/req per round: 300/200, 700/500, 650/400 (1.5, 1.4, 1.625); the medians' ratio would be 650 / 400
  const drifting = [[300, 200], [700, 500], [650, 400]].map(([app, floor]) => [
    run('me', 'floor-me', 1000, 10, app!), run('floor-me', null, 1250, 10, floor!)
  ])
  const [me] = combineRounds(drifting)
  t.equal(me!.cpuRatio, 1.5)
  t.equal(me!.ratio, 0.8)
})

test('a round that measured an empty pool (req/s null) does not count in the median', async (t) => {
  const [verify] = combineRounds([
    [run('verify', null, null, 10, 100)], [run('verify', null, 700, 10, 100)], [run('verify', null, 900, 10, 100)]
  ])
  t.equal(verify!.reqPerSec, 800)
})

test('the report gives the rounds\' CPU ratios and says how the table was made', async (t) => {
  const combined = combineRounds(rounds)
  const markdown = formatMarkdown(report(combined))
  t.match(markdown, /ran in 3 rounds/)
  t.match(markdown, /`verify` by round \(req\/s and CPU ratio\): 900 req\/s 1\.50; 450 req\/s 1\.80; 800 req\/s 1\.73/)
  t.match(markdown, /`floor-verify` by round \(CPU µs\/req\): 400; 500; 300/)
  const line = markdown.split('\n').find((row) => row.startsWith('| verify |'))!
  t.match(line, /\| 1\.73 \|$/, 'the CPU ratio column is the median of the rounds\' ratios')
  t.match(formatTable(report(combined)), /`verify` by round/)
  t.same(withRatios([run('a', 'b', 1, 1, 1), run('b', null, 1, 1, 0)])[0]!.cpuRatio, null, 'no ratio to a floor without CPU')
})
