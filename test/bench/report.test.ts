import { test } from 'tap'
import { formatMarkdown, formatTable, type ScenarioResult } from '../../bench/report.ts'
import { benchReport } from '../helpers/bench-report.ts'

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
