import { deliveriesDrained, measure, type RunShape } from './measure.ts'
import { Pools } from './pools.ts'
import { median, round2 } from './stats.ts'
import { serviceWarnings, type Service } from './processes.ts'
import type { ScenarioResult } from './report.ts'
import type { Scenario } from './scenarios.ts'
import { startApp, startDeliveryWorker, type ServerSettings } from './servers.ts'
import type { FakeSendGrid } from '../test/helpers/fake-sendgrid.ts'

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

export interface WaitOptions {
  servers: ServerSettings
  sentinel: SentinelEnv
  shape: RunShape
  rounds: number
  scenarios: Scenario[]
  sendgrid: FakeSendGrid
  warnings: string[]
}

/** Why the section cannot run here, or null. */
export function waitSkipReason (sentinel: SentinelEnv): string | null {
  return sentinel.sentinels && sentinel.sentinelName
    ? null
    : 'TEST_REDIS_SENTINELS and TEST_REDIS_SENTINEL_NAME are not set (`npm run bench` starts a Sentinel set and sets them)'
}

const medianOrNull = (values: number[]) => values.length === 0 ? null : Math.round(median(values))
const ratioMedian = (values: number[]) => values.length === 0 ? null : round2(median(values))

/**
 * The cost of REDIS_WAIT_REPLICAS=1. Each round starts two apps side by side (one worker each, production mode,
 * on the Sentinel set's primary, which has one replica) and one delivery worker for both, and runs every scenario
 * on each: WAIT 0 then 1 in odd rounds, 1 then 0 in even ones, so drift on a busy machine falls on both sides.
 * Its own pools: challenges and revocations live in the Sentinel set's Redis, not in the plain one.
 */
export async function compareReplicaWait (options: WaitOptions): Promise<WaitComparison[]> {
  const { rounds, scenarios } = options
  const pools = new Pools()
  const runs = new Map(scenarios.map((scenario) => [scenario.name, [] as Round[]]))
  for (let round = 1; round <= rounds; round++) {
    for (const [name, result] of await runRound(options, pools, round)) runs.get(name)!.push(result)
  }
  if (pools.starved > 0) options.warnings.push(`replica wait: ${pools.starved} requests went out without a challenge or session (a pool ran dry)`)
  if (pools.problems.size > 0) {
    options.warnings.push(`replica wait, error answers: ${[...pools.problems].map(([problem, count]) => `${count} × ${problem}`).join(', ')}`)
  }
  return [...runs].map(([name, scenarioRuns]) => summariseWait(name, scenarioRuns))
}

async function runRound (options: WaitOptions, pools: Pools, round: number): Promise<Map<string, Round>> {
  const { servers, sentinel, shape, scenarios, sendgrid, warnings } = options
  // the Sentinel variables instead of REDIS_URL, for every process of the section
  const onSentinel = {
    ...servers,
    redisEnv: { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: sentinel.sentinelName }
  }
  const started: Service[] = []
  const results = new Map<string, Round>()
  try {
    // the worker only sends what the apps queued: the same for both sides, at the default REDIS_WAIT_REPLICAS
    const [worker, ...apps] = await Promise.all([
      startDeliveryWorker(onSentinel),
      ...([0, 1] as const).map((side) => startApp(onSentinel, 1, undefined, { REDIS_WAIT_REPLICAS: String(side) }))
    ])
    started.push(worker!, ...apps)
    const sides: WaitSide[] = round % 2 === 1 ? [0, 1] : [1, 0]
    for (const scenario of scenarios) {
      const result: Partial<Round> = {}
      for (const side of sides) {
        const label = `${scenario.name} WAIT ${side} #${round}`
        try {
          result[side] = await measure(scenario, { app: apps[side]! }, pools, shape, label)
        } catch (error) {
          // a pool filled through a refusing app (503: no replica acknowledged) fails the run, not the bench
          warnings.push(`replica wait: ${label} failed: ${(error as Error).message.split('\n')[0]}`)
        }
        if (scenario.name === 'start') await deliveriesDrained(sendgrid)
      }
      if (result[0] && result[1]) results.set(scenario.name, result as Round)
    }
    warnings.push(...serviceWarnings(started))
  } finally {
    await Promise.all(started.map((service) => service.stop()))
  }
  return results
}

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
