import type { ScenarioResult } from './report.ts'
import { median, round2 } from './stats.ts'

/** value ÷ the floor's, to two decimals; null without both */
export const ratio = (value: number | null | undefined, floorValue: number | null | undefined) =>
  value != null && floorValue ? round2(value / floorValue) : null

/** One round's results with each endpoint's ratios to its floor, measured beside it in the same round. */
export function withRatios (results: ScenarioResult[]): ScenarioResult[] {
  const byName = new Map(results.map((result) => [result.name, result]))
  return results.map((result) => {
    const floor = result.floor ? byName.get(result.floor) : undefined
    return {
      ...result,
      ratio: ratio(result.reqPerSec, floor?.reqPerSec),
      p99Ratio: ratio(result.p99, floor?.p99),
      cpuRatio: ratio(result.serverCpuMicrosPerRequest, floor?.serverCpuMicrosPerRequest)
    }
  })
}

const medianOf = (values: Array<number | null | undefined>): number | null => {
  const known = values.filter((value): value is number => value != null)
  return known.length === 0 ? null : median(known)
}

/**
 * Rounds of the same scenarios as one result per scenario, in the order of the first round: the medians of the
 * rounds' req/s, latencies and CPU per request, each ratio the median of the rounds' own ratios (an endpoint and
 * its floor run side by side within a round, so a machine that drifts between rounds moves both), errors,
 * non-2xx, pool misses and statuses summed. `rounds` keeps every round's figures. One round: itself, with ratios.
 */
export function combineRounds (rounds: ScenarioResult[][]): ScenarioResult[] {
  const rated = rounds.map(withRatios)
  if (rated.length === 1) return rated[0]!
  const names = [...new Set(rated.flat().map((result) => result.name))]
  return names.map((name) => {
    const runs = rated.flatMap((round) => round.filter((result) => result.name === name))
    const first = runs[0]!
    const statusCodes: Record<string, number> = {}
    for (const run of runs) {
      for (const [status, count] of Object.entries(run.statusCodes)) {
        statusCodes[status] = (statusCodes[status] ?? 0) + count
      }
    }
    const sum = (pick: (run: ScenarioResult) => number | undefined) =>
      runs.reduce((total, run) => total + (pick(run) ?? 0), 0)
    const combined: ScenarioResult = {
      ...first,
      reqPerSec: medianOf(runs.map((run) => run.reqPerSec)),
      p50: medianOf(runs.map((run) => run.p50)) ?? first.p50,
      p99: medianOf(runs.map((run) => run.p99)) ?? first.p99,
      errors: sum((run) => run.errors),
      non2xx: sum((run) => run.non2xx),
      poolMisses: sum((run) => run.poolMisses),
      ratio: medianOf(runs.map((run) => run.ratio)),
      p99Ratio: medianOf(runs.map((run) => run.p99Ratio)),
      cpuRatio: medianOf(runs.map((run) => run.cpuRatio)),
      serverCpuMicrosPerRequest: medianOf(runs.map((run) => run.serverCpuMicrosPerRequest)),
      statusCodes
    }
    if (runs.length > 1) {
      combined.rounds = runs.map((run) => ({
        reqPerSec: run.reqPerSec,
        p99: run.p99,
        serverCpuMicrosPerRequest: run.serverCpuMicrosPerRequest,
        cpuRatio: run.cpuRatio ?? null
      }))
    }
    return combined
  })
}
