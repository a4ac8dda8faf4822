// The REDIS_WAIT_REPLICAS comparison's figures, apart from the runs that make them (bench/wait-comparison.ts), so
// they are tested without loading the bench's processes.
import { median, round2 } from './stats.ts'
import type { ScenarioResult } from './report.ts'

/** REDIS_WAIT_REPLICAS of one side */
export type WaitSide = 0 | 1
/** one scenario's run on each side, in one round */
export type Round = Record<WaitSide, ScenarioResult>

/** One scenario at REDIS_WAIT_REPLICAS=0 and =1, on the same Sentinel set, in alternating runs. */
export interface WaitComparison {
  scenario: string
  /** median req/s and p99 (ms) over the rounds, each side; null when no round had figures on both sides */
  wait0ReqPerSec: number | null
  wait1ReqPerSec: number | null
  /** the median over rounds of (WAIT 1 ÷ WAIT 0) req/s */
  ratio: number | null
  /** each round's req/s ratio, in run order */
  roundRatios: number[]
  wait0P99: number | null
  wait1P99: number | null
  /** WAIT 1's median p99 ÷ WAIT 0's */
  p99Ratio: number | null
  /** connection errors and timeouts, and non-2xx answers (503: the replica did not acknowledge), over every round */
  wait0Errors: number
  wait0Non2xx: number
  wait1Errors: number
  wait1Non2xx: number
  /** how many rounds the figures are of */
  rounds: number
}

/** The section in the report: the comparison, or why it did not run. */
export type ReplicaWaitSection = { rounds: number, scenarios: WaitComparison[] } | { skipped: string }

/** How the processes reach the Sentinel set, as `npm run bench`'s test services name it. */
export interface SentinelEnv { sentinels: string, sentinelName: string }

/** Why the section cannot run here, or null. */
export function waitSkipReason (sentinel: SentinelEnv): string | null {
  return sentinel.sentinels && sentinel.sentinelName
    ? null
    : 'TEST_REDIS_SENTINELS and TEST_REDIS_SENTINEL_NAME are not set (`npm run bench` starts a Sentinel set and sets them)'
}

const medianOrNull = (values: number[]) => values.length === 0 ? null : Math.round(median(values))
const ratioMedian = (values: number[]) => values.length === 0 ? null : round2(median(values))

export function summariseWait (scenario: string, allRuns: Round[]): WaitComparison {
  // a run that measured an empty pool (no req/s) says nothing about WAIT: its round is left out of the figures
  const runs = allRuns.filter((round) => round[0].reqPerSec !== null && round[1].reqPerSec !== null)
  const reqPerSec = (result: ScenarioResult) => result.reqPerSec ?? 0
  const roundRatios = runs.map((round) => round2(reqPerSec(round[1]) / reqPerSec(round[0])))
  const sum = (side: WaitSide, field: 'errors' | 'non2xx') => allRuns.reduce((total, round) => total + round[side][field], 0)
  // a tail is what one disturbed run moves most: the sides' medians, compared once, rather than each round's ratio
  const p99 = (side: WaitSide) => runs.length === 0 ? null : median(runs.map((round) => round[side].p99))
  const [p99Wait0, p99Wait1] = [p99(0), p99(1)]
  return {
    scenario,
    wait0ReqPerSec: medianOrNull(runs.map((round) => reqPerSec(round[0]))),
    wait1ReqPerSec: medianOrNull(runs.map((round) => reqPerSec(round[1]))),
    ratio: ratioMedian(roundRatios),
    roundRatios,
    wait0P99: p99Wait0 === null ? null : Math.round(p99Wait0),
    wait1P99: p99Wait1 === null ? null : Math.round(p99Wait1),
    p99Ratio: p99Wait0 && p99Wait1 !== null ? round2(p99Wait1 / p99Wait0) : null,
    wait0Errors: sum(0, 'errors'),
    wait0Non2xx: sum(0, 'non2xx'),
    wait1Errors: sum(1, 'errors'),
    wait1Non2xx: sum(1, 'non2xx'),
    rounds: runs.length
  }
}
