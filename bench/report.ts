import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import type { EnumerationTiming } from './enumeration.ts'
import type { FollowUpTiming } from './enumeration-follow-up.ts'
import type { MetricsComparison } from './metrics-comparison.ts'
import type { ReplicaWaitSection, WaitComparison } from './wait-summary.ts'
import { ratio } from './rounds.ts'

export interface ScenarioResult {
  name: string
  /** null when most requests went out without a challenge or session (a pool ran dry): not a measure of the API */
  reqPerSec: number | null
  /** requests of the measured run that found their pool empty */
  poolMisses?: number
  /** latency percentiles in ms (autocannon records whole milliseconds) */
  p50: number
  p99: number
  /** connection errors and timeouts */
  errors: number
  non2xx: number
  floor: string | null
  /** reqPerSec / the floor's reqPerSec */
  ratio: number | null
  /** this scenario's p99 ÷ its floor's p99 (the target: at most 2) */
  p99Ratio?: number | null
  note?: string
  /** CPU time of the server process(es) per request, in µs: its own cost, whatever the stores' speed */
  serverCpuMicrosPerRequest: number | null
  /** every status seen, with counts, so non-2xx can be told apart */
  statusCodes: Record<string, number>
  /** serverCpuMicrosPerRequest ÷ the floor's (issue #29's target: at most 1.6); several rounds: their median */
  cpuRatio?: number | null
  /** each round's own figures, when the scenario ran in several (BENCH_ROUNDS) */
  rounds?: RoundFigures[]
}

export interface RoundFigures {
  reqPerSec: number | null
  p99: number
  serverCpuMicrosPerRequest: number | null
  cpuRatio: number | null
}

export interface WorkersResult { scenario: string, oneWorker: number, twoWorkers: number, gain: number }

/** What the delivery worker sent while the bench waited for it: messages, and seconds until the last of them. */
export interface Drained { sent: number, seconds: number, complete: boolean }

/**
 * start's delivery worker. It is stopped during start's warm-up and measured run, as on hosts of its own, and
 * sends their codes after each (`drains`); `beside` measures start and its floor once more with it sending on the
 * same cores, as a one-machine deployment runs.
 */
export interface DeliveryWorkerResult {
  drains: Drained[]
  /** start then floor-start, with ratios; null when start was not measured */
  beside: ScenarioResult[] | null
}

export interface BenchReport {
  ranAt: string
  machine: string
  settings: { durationSeconds: number, warmupSeconds: number, connections: number, rounds?: number }
  scenarios: ScenarioResult[]
  workers: WorkersResult | null
  deliveryWorker?: DeliveryWorkerResult | null
  enumeration: EnumerationTiming | null
  /** the request after a code request, known against unknown and disabled identifiers, API sending or not */
  followUps?: FollowUpTiming[] | null
  /** each app scenario without and with metrics (METRICS_PORT), interleaved; null: not measured */
  metrics: { control: boolean, scenarios: MetricsComparison[] } | null
  /** app scenarios at REDIS_WAIT_REPLICAS=0 and =1 on the Sentinel set, alternating; null: not selected */
  replicaWait?: ReplicaWaitSection | null
  /** wall time of the whole bench, services excluded */
  totalSeconds: number
  warnings: string[]
}

export const describeMachine = () => {
  const cores = cpus()
  return `${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`
}

const fixed = (value: number | null, digits: number) => value === null ? '–' : value.toFixed(digits)

/** A scenario's server CPU per request over its floor's (issue #29's target: at most 1.6); null without both. */
function cpuRatio (result: ScenarioResult, scenarios: ScenarioResult[]): number | null {
  if (result.cpuRatio !== undefined) return result.cpuRatio
  const floorCpu = scenarios.find((item) => item.name === result.floor)?.serverCpuMicrosPerRequest
  return ratio(result.serverCpuMicrosPerRequest, floorCpu)
}

/** Each scenario run in several rounds, with its rounds' CPU ratios (or CPU µs/req for a floor). */
function roundLines (report: BenchReport): string[] {
  return report.scenarios.filter((result) => result.rounds !== undefined).map((result) => {
    const figures = result.rounds!.map((round) => result.floor === null
      ? fixed(round.serverCpuMicrosPerRequest, 0)
      : `${fixed(round.reqPerSec, 0)} req/s ${fixed(round.cpuRatio, 2)}`)
    return `\`${result.name}\` by round (${result.floor === null ? 'CPU µs/req' : 'req/s and CPU ratio'}): ${figures.join('; ')}`
  })
}

function rows (report: BenchReport): string[][] {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'floor', 'ratio', 'p99 ratio', 'server CPU µs/req', 'CPU ratio']
  return [header, ...report.scenarios.map((result) => [
    result.name, fixed(result.reqPerSec, 0), fixed(result.p50, 0), fixed(result.p99, 0),
    String(result.errors), String(result.non2xx), result.floor ?? '', fixed(result.ratio, 2), fixed(result.p99Ratio ?? null, 2),
    fixed(result.serverCpuMicrosPerRequest, 0), fixed(cpuRatio(result, report.scenarios), 2)
  ])]
}

function metricsRows (metrics: MetricsComparison[]): string[][] {
  const header = ['scenario', 'req/s off', 'req/s on', 'ratio', 'pair ratios', 'CPU µs/req off', 'CPU µs/req on', 'failures']
  return [header, ...metrics.map((row) => [
    row.scenario, fixed(row.offReqPerSec, 0), fixed(row.onReqPerSec, 0), fixed(row.ratio, 2),
    row.pairRatios.length > 0 ? row.pairRatios.map((ratio) => ratio.toFixed(2)).join(' ') : `median of ${row.pairs}`,
    fixed(row.offCpuMicros, 0), fixed(row.onCpuMicros, 0),
    String(row.failures)
  ])]
}

const metricsCaption = ({ control }: { control: boolean }) => (control
  ? 'A/A control (BENCH_METRICS_CONTROL=1), metrics off on both apps: the ratios show what this machine can resolve; '
  : 'metrics off against on (METRICS_PORT set, /metrics scraped every second): ') +
  'two apps side by side, short runs of each scenario interleaved in pairs (off-on, then on-off); req/s and CPU ' +
  'are medians over the runs, the ratio is the median of the pairs\' on ÷ off'

function waitRows (rows: WaitComparison[]): string[][] {
  const header = ['scenario', 'req/s WAIT 0', 'req/s WAIT 1', 'ratio', 'round ratios', 'p99 ms WAIT 0', 'p99 ms WAIT 1', 'p99 ratio',
    'errors/non-2xx WAIT 0', 'errors/non-2xx WAIT 1']
  return [header, ...rows.map((row) => [
    row.scenario, fixed(row.wait0ReqPerSec, 0), fixed(row.wait1ReqPerSec, 0), fixed(row.ratio, 2),
    row.roundRatios.map((ratio) => ratio.toFixed(2)).join(' '),
    fixed(row.wait0P99, 0), fixed(row.wait1P99, 0), fixed(row.p99Ratio, 2),
    `${row.wait0Errors}/${row.wait0Non2xx}`, `${row.wait1Errors}/${row.wait1Non2xx}`
  ])]
}

const waitCaption = (rounds: number) =>
  'REDIS_WAIT_REPLICAS 0 against 1: both sides on the same Sentinel primary with one replica on this machine; WAIT 1 ' +
  'adds a round trip on a connection of its own per acknowledged write (start: the challenge and the queued job; ' +
  'verify: the code used; refresh and me acknowledge nothing: controls). ' +
  `Two apps side by side, ${rounds} round${rounds === 1 ? '' : 's'}, WAIT 0 then 1 in odd rounds and 1 then 0 in even ones; ` +
  'req/s and p99 are medians over the rounds; the ratio is the median of the rounds\' WAIT 1 ÷ WAIT 0, the p99 ' +
  'ratio that of the medians'

type TableFormat = (rows: string[][], left: number[]) => string[]

/** The section's caption and table, or nothing (skipped: a line of the summary). */
function waitSection (section: ReplicaWaitSection | null | undefined, table: TableFormat): string[] {
  if (section == null || 'skipped' in section) return []
  return [`${waitCaption(section.rounds)}:`, '', ...table(waitRows(section.scenarios), [0, 4]), '']
}

function deliveryWorkerLines ({ drains, beside }: DeliveryWorkerResult): string[] {
  const lines = drains.length === 0
    ? []
    : [`delivery worker: stopped during start's runs, then sent their codes: ${drains.map(({ sent, seconds, complete }) =>
        `${sent} in ${seconds.toFixed(1)} s (${seconds > 0 ? Math.round(sent / seconds) : '–'}/s${complete ? '' : ', not done'})`).join('; ')}`]
  const [start, floor] = beside ?? []
  if (start && floor) {
    lines.push(`start with the delivery worker sending on the same cores: ${fixed(start.reqPerSec, 0)} req/s against ` +
      `floor-start's ${fixed(floor.reqPerSec, 0)} beside it (×${fixed(start.ratio, 2)}), p99 ${start.p99} ms (×${fixed(start.p99Ratio ?? null, 2)}), ` +
      `CPU ${fixed(start.serverCpuMicrosPerRequest, 0)} µs/req against ${fixed(floor.serverCpuMicrosPerRequest, 0)} (×${fixed(start.cpuRatio ?? null, 2)}), ` +
      `errors ${start.errors}, non-2xx ${start.non2xx}`)
  }
  return lines
}

function summary (report: BenchReport): string[] {
  const lines: string[] = []
  if (report.replicaWait && 'skipped' in report.replicaWait) lines.push(`replica wait: skipped: ${report.replicaWait.skipped}`)
  const { workers, enumeration } = report
  if (workers) lines.push(`workers: ${workers.scenario} ${workers.oneWorker.toFixed(0)} req/s with 1 worker, ${workers.twoWorkers.toFixed(0)} with 2: ×${workers.gain.toFixed(2)}`)
  if (report.deliveryWorker) lines.push(...deliveryWorkerLines(report.deliveryWorker))
  if (enumeration) {
    lines.push(`enumeration: POST /v1/auth/otp median ${enumeration.knownMedianMs.toFixed(2)} ms for a known identifier, ${enumeration.unknownMedianMs.toFixed(2)} ms for an unknown one: ` +
      `difference ${enumeration.differenceMs.toFixed(2)} ms (${enumeration.samples} sequential requests each, statuses ${enumeration.statuses.join(', ')})`)
  }
  for (const timing of report.followUps ?? []) {
    const { known, unknown, disabled } = timing.followUpMedianMs
    lines.push(`enumeration, the request after (${timing.inProcessWorker ? 'the API sends codes' : 'a worker sends codes'}): median ` +
      `${known.toFixed(2)} ms after a known identifier's, ${unknown.toFixed(2)} after an unknown one's, ${disabled.toFixed(2)} after a disabled one's: ` +
      `difference ${timing.differenceMs.toFixed(2)} ms; best single-sample classifier ${Math.round(timing.classifier.inSample * 100)} % right ` +
      `(${Math.round(timing.classifier.heldOut * 100)} % on held-out samples), ${timing.samples} rounds`)
  }
  lines.push(...report.warnings.map((warning) => `warning: ${warning}`))
  return lines
}

/** The table for the terminal, columns aligned. */
export function formatTable (report: BenchReport): string {
  const metrics = report.metrics === null
    ? []
    : ['', `${metricsCaption(report.metrics)}:`, ...aligned(metricsRows(report.metrics.scenarios), [0, 4])]
  const wait = waitSection(report.replicaWait, aligned)
  return [...aligned(rows(report), [0, 6]), ...roundLines(report), ...metrics, '', ...wait, ...summary(report)].join('\n')
}

/** Columns padded to one width; the `left` ones aligned left, the others right. */
function aligned (table: string[][], left: number[]): string[] {
  const widths = table[0]!.map((_cell, column) => Math.max(...table.map((row) => row[column]!.length)))
  return table.map((row) => row.map((cell, column) => left.includes(column) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)).join('  '))
}

function markdownTable ([header = [], ...body]: string[][], left: number[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_cell, column) => left.includes(column) ? '---' : '---:').join(' | ')} |`,
    ...body.map((row) => `| ${row.join(' | ')} |`)
  ]
}

export function formatMarkdown (report: BenchReport): string {
  const { durationSeconds, warmupSeconds, connections, rounds = 1 } = report.settings
  const inRounds = rounds > 1
    ? ` Endpoints and their floors ran in ${rounds} rounds, side by side in each: medians of the rounds, each ratio the median of the rounds' own.`
    : ''
  return [
    `# otp-gate benchmark, ${report.ranAt}`,
    '',
    `${report.machine}. ${connections} connections, ${durationSeconds} s per scenario after a ${warmupSeconds} s warm-up, one worker; ` +
      `the bench took ${report.totalSeconds.toFixed(0)} s.${inRounds}`,
    '',
    ...markdownTable(rows(report), [0, 6]),
    '',
    ...report.scenarios.filter((result) => result.note).map((result) =>
      `- \`${result.name}\`${result.floor === null ? '' : ` vs \`${result.floor}\``}: ${result.note}`),
    '- server CPU µs/req: CPU time of the server process(es) during the run over the requests answered, the ' +
      'app\'s own cost whatever the stores\' speed (for store-bound runs it includes driver queueing and idle upkeep); ' +
      'CPU ratio: that over the floor\'s',
    ...roundLines(report).map((line) => `- ${line}`),
    '',
    ...(report.metrics === null
      ? []
      : [`${metricsCaption(report.metrics)}:`, '', ...markdownTable(metricsRows(report.metrics.scenarios), [0, 4]), '']),
    ...waitSection(report.replicaWait, markdownTable),
    ...summary(report).map((line) => `- ${line}`),
    ''
  ].join('\n')
}

export async function writeReport (directory: URL, report: BenchReport): Promise<void> {
  await mkdir(directory, { recursive: true })
  await writeFile(new URL('latest.md', directory), formatMarkdown(report))
  await writeFile(new URL('latest.json', directory), JSON.stringify(report, null, 2) + '\n')
}
