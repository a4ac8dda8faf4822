import { test } from 'tap'
import { formatMarkdown, formatTable, type ScenarioResult } from '../../bench/report.ts'
import { benchReport } from '../helpers/bench-report.ts'
import { withRatios } from '../../bench/rounds.ts'

const scenario = (name: string, floor: string | null, cpu: number | null): ScenarioResult => ({
  name,
  reqPerSec: 1000,
  p50: 10,
  p99: 20,
  errors: 0,
  non2xx: 0,
  floor,
  ratio: null,
  serverCpuMicrosPerRequest: cpu,
  statusCodes: { 200: 1 }
})

const report = (scenarios: ScenarioResult[]) => benchReport(scenarios)

test('the table gives each scenario\'s CPU µs/req over its floor\'s', async (t) => {
  const scenarios = [scenario('start', 'floor-start', 790), scenario('floor-start', null, 316), scenario('flow', null, 800)]
  const markdown = formatMarkdown(report(scenarios)).split('\n')
  const header = markdown.find((line) => line.startsWith('| scenario'))!
  const columns = header.split('|').map((cell) => cell.trim())
  const column = columns.indexOf('CPU ratio')
  t.ok(column > 0, 'a CPU ratio column')
  const cell = (name: string) => markdown.find((line) => line.startsWith(`| ${name} |`))!.split('|').map((value) => value.trim())[column]
  t.equal(cell('start'), '2.50')
  t.equal(cell('floor-start'), '–', 'a floor has no ratio of its own')
  t.equal(cell('flow'), '–', 'nor has a scenario without a floor')
  t.match(formatTable(report(scenarios)), /CPU ratio/)
})

test('no CPU ratio when either CPU figure is missing', async (t) => {
  const markdown = formatMarkdown(report([scenario('me', 'floor-me', null), scenario('floor-me', null, 300)]))
  t.match(markdown, /\| me \|.*\| – \|$/m)
})

test('a scenario\'s note names its floor, and only when it has one', async (t) => {
  const markdown = formatMarkdown(report([
    { ...scenario('start', 'floor-start', 300), note: 'a new address' },
    { ...scenario('flow', null, 400), note: 'a returning user' }
  ]))
  t.match(markdown, /^- `start` vs `floor-start`: a new address$/m)
  t.match(markdown, /^- `flow`: a returning user$/m)
  t.notMatch(markdown, /null/)
})

test('the summary gives what the delivery worker sent after start\'s runs, and start with it sending beside', async (t) => {
  const [start, floor] = withRatios([
    { ...scenario('start (delivery worker beside)', 'floor-start (delivery worker beside)', 450), reqPerSec: 1300, p99: 150 },
    { ...scenario('floor-start (delivery worker beside)', null, 300), reqPerSec: 2600, p99: 100 }
  ])
  const deliveryWorker = {
    drains: [{ sent: 39_000, seconds: 50, complete: true }, { sent: 24_000, seconds: 300, complete: false }],
    beside: [start!, floor!]
  }
  const withWorker = { ...report([]), deliveryWorker }
  for (const text of [formatTable(withWorker), formatMarkdown(withWorker)]) {
    t.match(text, /delivery worker: stopped during start's runs, then sent their codes: 39000 in 50\.0 s \(780\/s\); 24000 in 300\.0 s \(80\/s, not done\)/)
    t.match(text, /start with the delivery worker sending on the same cores: 1300 req\/s against floor-start's 2600 beside it \(×0\.50\), p99 150 ms \(×1\.50\), CPU 450 µs\/req against 300 \(×1\.50\)/)
  }
  t.notMatch(formatTable(report([])), /delivery worker/, 'nothing when start did not run')
})
