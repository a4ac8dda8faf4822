import { deliveriesDrained, measure, type RunShape } from './measure.ts'
import type { Pools } from './pools.ts'
import { median, round2 } from './stats.ts'
import { serviceWarnings, type Service } from './processes.ts'
import type { ScenarioResult } from './report.ts'
import type { Scenario } from './scenarios.ts'
import { startApp, type ServerSettings } from './servers.ts'
import { freePort } from '../test/helpers/disposable-server.ts'
import type { FakeSendGrid } from '../test/helpers/fake-sendgrid.ts'

/** One scenario on the app without metrics and on the same app with METRICS_PORT set, in interleaved runs. */
export interface MetricsComparison {
  scenario: string
  /** median req/s of the runs without metrics, and of those with; null in the pooled row */
  offReqPerSec: number | null
  onReqPerSec: number | null
  /** the median over pairs of (req/s with metrics ÷ req/s without) */
  ratio: number
  /** each pair's ratio, in run order (empty in the pooled row) */
  pairRatios: number[]
  /** how many pair ratios the median is of */
  pairs: number
  /** median server CPU per request, µs */
  offCpuMicros: number | null
  onCpuMicros: number | null
  /** connection errors, timeouts and non-2xx answers over every run of the scenario */
  failures: number
}

export interface ComparisonOptions {
  servers: ServerSettings
  shape: RunShape
  pairs: number
  /** an A/A control: the second app runs without metrics too, so the ratios show what the bench can resolve */
  control: boolean
  scenarios: Scenario[]
  pools: Pools
  sendgrid: FakeSendGrid
  warnings: string[]
}

const medianOrNull = (values: Array<number | null>) =>
  values.some((value) => value === null) ? null : Math.round(median(values as number[]))

/**
 * Scrapes /metrics every second while the metered app is measured, as a Prometheus server would (more often
 * than its usual 15 s), and not while the other one is, so the scrape's cost falls on the metered runs alone.
 */
class Scraper {
  scrapes = 0
  readonly #url: string
  #timer: NodeJS.Timeout | undefined
  constructor (url: string) {
    this.#url = url
  }

  start (): void {
    this.#timer = setInterval(() => {
      fetch(this.#url).then(async (response) => { await response.text(); if (response.ok) this.scrapes++ }, () => {})
    }, 1000)
  }

  stop (): void {
    clearInterval(this.#timer)
  }
}

/**
 * The cost of metrics, measured so that drift on a noisy machine cancels. Each pair starts two new apps side by
 * side (one worker each, the same stores), one with metrics, and runs every scenario on both, off-on in odd pairs
 * and on-off in even ones (ABBA), so a machine that speeds up or slows down weighs on both sides alike; new
 * processes for each pair, because two identical processes can differ by several per cent for their whole life.
 * A pair's ratio compares two runs seconds apart; the median over pairs discards the odd disturbed one.
 */
export async function compareWithMetrics (options: ComparisonOptions): Promise<MetricsComparison[]> {
  const { pairs, scenarios } = options
  const runs = new Map(scenarios.map((scenario) => [scenario.name, [] as Array<Record<Side, ScenarioResult>>]))
  for (let pair = 1; pair <= pairs; pair++) {
    const results = await runPair(options, pair)
    for (const [name, result] of results) runs.get(name)!.push(result)
  }
  const rows = [...runs].map(([name, scenarioRuns]) => summarise(name, scenarioRuns))
  return rows.length > 1 ? [...rows, pooled(rows)] : rows
}

/**
 * Every pair of every scenario together: metrics cost the same few microseconds on any request, so the median
 * of all pair ratios estimates it with more samples than any one scenario has.
 */
function pooled (rows: MetricsComparison[]): MetricsComparison {
  const pairRatios = rows.flatMap((row) => row.pairRatios)
  return {
    scenario: 'all pairs',
    offReqPerSec: null,
    onReqPerSec: null,
    ratio: round2(median(pairRatios)),
    pairRatios: [],
    pairs: pairRatios.length,
    offCpuMicros: null,
    onCpuMicros: null,
    failures: rows.reduce((sum, row) => sum + row.failures, 0)
  }
}

type Side = 'off' | 'on'

async function runPair (options: ComparisonOptions, pair: number): Promise<Map<string, Record<Side, ScenarioResult>>> {
  const { servers, shape, control, scenarios, pools, sendgrid, warnings } = options
  const metricsPort = await freePort()
  const apps: Record<Side, Service> = Object.fromEntries(await Promise.all((['off', 'on'] as const).map(async (side) =>
    [side, await startApp(servers, 1, side === 'on' && !control ? metricsPort : undefined)]
  ))) as Record<Side, Service>
  const scraper = new Scraper(`http://127.0.0.1:${metricsPort}/metrics`)
  const sides = pair % 2 === 1 ? (['off', 'on'] as const) : (['on', 'off'] as const)
  const results = new Map<string, Record<Side, ScenarioResult>>()
  try {
    for (const scenario of scenarios) {
      const result: Partial<Record<Side, ScenarioResult>> = {}
      for (const side of sides) {
        if (side === 'on' && !control) scraper.start()
        try {
          const label = `${scenario.name} ${control ? `control ${side === 'off' ? 'A' : 'B'}` : `metrics ${side}`} #${pair}`
          result[side] = await measure(scenario, { app: apps[side] }, pools, shape, label)
        } finally {
          scraper.stop()
        }
        if (scenario.name === 'start') await deliveriesDrained(sendgrid)
      }
      results.set(scenario.name, result as Record<Side, ScenarioResult>)
    }
    if (scraper.scrapes === 0 && !control) warnings.push(`pair ${pair} of the metrics comparison could not scrape /metrics`)
    warnings.push(...serviceWarnings(Object.values(apps)))
  } finally {
    await Promise.all(Object.values(apps).map((app) => app.stop()))
  }
  return results
}

function summarise (scenario: string, allRuns: Array<Record<Side, ScenarioResult>>): MetricsComparison {
  // a run that measured an empty pool (no req/s) says nothing about metrics: its pair is left out
  const runs = allRuns.filter(({ off, on }) => off.reqPerSec !== null && on.reqPerSec !== null)
  const reqPerSec = (result: ScenarioResult) => result.reqPerSec ?? 0
  const pairRatios = runs.map(({ off, on }) => round2(reqPerSec(on) / reqPerSec(off)))
  return {
    scenario,
    offReqPerSec: Math.round(median(runs.map(({ off }) => reqPerSec(off)))),
    onReqPerSec: Math.round(median(runs.map(({ on }) => reqPerSec(on)))),
    ratio: round2(median(pairRatios)),
    pairRatios,
    pairs: pairRatios.length,
    offCpuMicros: medianOrNull(runs.map(({ off }) => off.serverCpuMicrosPerRequest)),
    onCpuMicros: medianOrNull(runs.map(({ on }) => on.serverCpuMicrosPerRequest)),
    failures: runs.reduce((sum, { off, on }) => sum + off.errors + off.non2xx + on.errors + on.non2xx, 0)
  }
}
