import { deliveriesDrained, measure, type RunShape } from './measure.ts'
import { Pools } from './pools.ts'
import { serviceWarnings, type Service } from './processes.ts'
import type { Scenario } from './scenarios.ts'
import { startApp, startDeliveryWorker, type ServerSettings } from './servers.ts'
import type { FakeSendGrid } from '../test/helpers/fake-sendgrid.ts'
import { summariseWait, type Round, type SentinelEnv, type WaitComparison, type WaitSide } from './wait-summary.ts'

export { waitSkipReason, type ReplicaWaitSection, type WaitComparison } from './wait-summary.ts'

export interface WaitOptions {
  servers: ServerSettings
  sentinel: SentinelEnv
  shape: RunShape
  rounds: number
  scenarios: Scenario[]
  sendgrid: FakeSendGrid
  warnings: string[]
}

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
