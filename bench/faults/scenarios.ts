// The faults, one at a time. Each injects itself while the load runs (resolving once the fault is over, for the
// timed ones) and puts things back afterwards so that the next scenario starts whole.
import { setTimeout as sleep } from 'node:timers/promises'
import type { FakeSendGrid } from '../../test/helpers/fake-sendgrid.ts'
import type { MixedLoad } from './load.ts'
import type { MongoWireServer } from './mongo-server.ts'
import { clusterPrimaryPort, portsOf, redisCli, type RedisSet } from './redis-sets.ts'
import type { Stack } from './stack.ts'

export interface FaultContext {
  stack: Stack
  load: MixedLoad | null
  sendgrid: FakeSendGrid
  mongo: MongoWireServer
  mongoPort: number
  redisSet: RedisSet | null
}

export interface FaultScenario {
  /** the letter of issue #27 first: FAULTS_ONLY selects by it */
  name: string
  letter: string
  redis: 'plain' | 'sentinel' | 'cluster'
  /** seconds of load after the fault (the default: FAULTS_POST_SECONDS) */
  postSeconds?: number
  /** how long to wait for the last codes once the load stopped */
  drainMs?: number
  inject: (context: FaultContext) => Promise<string[]>
  restore?: (context: FaultContext) => Promise<void>
}

const PROVIDER_OUTAGE_MS = 10_000
/** a killed primary's restart rejoins as a replica some 15 s later: the load runs on long enough to see it */
const REPLICATED_POST_SECONDS = 20
const MONGO_STOP_MS = 5000
/**
 * BullMQ's lock (30 s) must lapse and a stalled-job check (every 30 s) run before a dead worker's jobs go again, or
 * those a worker held when its primary failed over
 */
const STALLED_JOB_DRAIN_MS = 80_000

const sentinelPorts = (set: RedisSet | null) => portsOf(required(set).env.REDIS_SENTINELS ?? '')
function required (set: RedisSet | null): RedisSet {
  if (set === null) throw new Error('this scenario needs a Redis set')
  return set
}

/** The primary a Sentinel names ('' while it does not answer). */
async function namedPrimary (sentinel: number): Promise<string> {
  const answer = await redisCli(sentinel, 'SENTINEL', 'get-master-addr-by-name', 'otp-gate').catch(() => '')
  return answer.trim().split('\n').join(':')
}

/** Sentinel's view of the primary, until it names another than `previous` (or 30 s); ms counted from `began`. */
async function newPrimary (
  sentinel: number, previous: string, began = Date.now()
): Promise<{ address: string, afterMs: number }> {
  let address = previous
  while (address === previous && Date.now() - began < 30_000) {
    await sleep(50)
    address = await namedPrimary(sentinel)
  }
  return { address, afterMs: Date.now() - began }
}

const acknowledges = (info: string) => info.includes('role:master') && /slave\d+:[^\n]*state=online/.test(info)

/**
 * When the failover is over for a write that waits for a replica (REDIS_WAIT_REPLICAS=1): `port` is a primary
 * and a replica streams from it (Sentinel reconfigures the replicas after the promotion; a Cluster's follow theirs
 * anew). Milliseconds from `began`, or 30 s.
 */
async function acknowledgeableAfter (ports: number[], began: number): Promise<number> {
  while (Date.now() - began < 30_000) {
    const infos = await Promise.all(ports.map((port) => redisCli(port, 'INFO', 'replication').catch(() => '')))
    if (infos.some(acknowledges)) break
    await sleep(50)
  }
  return Date.now() - began
}

/**
 * How long the sentinels keep naming a primary that acknowledges before the failover counts as over: a second
 * failover starts within about a second of the first one's end (a just-promoted primary called down, see
 * scripts/redis-sets.sh), so this is longer than that.
 */
const SETTLED_MS = 3000

/**
 * The Sentinel set's failover end for REDIS_WAIT_REPLICAS=1: the primary the sentinels name acknowledges (a replica
 * streams from it) and they name no other for SETTLED_MS. Should they fail over again meanwhile, the end is that
 * of the last failover. Milliseconds from `began` (30 s at most), with the primaries named on the way.
 */
async function settledFailoverEnd (
  sentinel: number, first: string, began: number
): Promise<{ afterMs: number, primaries: string[] }> {
  const primaries = [first]
  let endedAt: number | null = null
  while (Date.now() - began < 30_000 && (endedAt === null || Date.now() - endedAt < SETTLED_MS)) {
    const named = await namedPrimary(sentinel)
    if (named !== '' && named !== primaries.at(-1)) {
      primaries.push(named)
      endedAt = null
    }
    if (endedAt === null) {
      const [port] = portsOf(primaries.at(-1)!)
      if (acknowledges(await redisCli(port!, 'INFO', 'replication').catch(() => ''))) endedAt = Date.now()
    }
    await sleep(50)
  }
  return { afterMs: (endedAt ?? Date.now()) - began, primaries }
}

/** A note when the sentinels failed over more than once: the failover's end is then the last one's. */
const againNote = (primaries: string[]) => primaries.length > 1
  ? [`the sentinels failed over again: they named ${primaries.join(', then ')} (the failover's end is the last one's)`]
  : []

/** The ports of the replicas of the Cluster node at `port`, from CLUSTER NODES of any node. */
async function clusterReplicaPorts (anyNode: number, port: number): Promise<number[]> {
  const lines = (await redisCli(anyNode, 'CLUSTER', 'NODES')).split('\n').map((line) => line.split(' '))
  const portOf = (fields: string[]) => Number(fields[1]?.split('@')[0]?.split(':').at(-1))
  const id = lines.find((fields) => portOf(fields) === port)?.[0]
  return lines.filter((fields) => id !== undefined && fields[3] === id).map(portOf)
}

export const SCENARIOS: FaultScenario[] = [
  {
    name: 'a. Sentinel failover',
    letter: 'a',
    // a job a worker took on the old primary is taken again once its lock lapses: late, not lost
    drainMs: STALLED_JOB_DRAIN_MS,
    redis: 'sentinel',
    postSeconds: REPLICATED_POST_SECONDS,
    inject: async ({ redisSet }) => {
      const [sentinel] = sentinelPorts(redisSet)
      const before = (await redisCli(sentinel!, 'SENTINEL', 'get-master-addr-by-name', 'otp-gate')).trim().split('\n').join(':')
      const began = Date.now()
      const answer = (await redisCli(sentinel!, 'SENTINEL', 'FAILOVER', 'otp-gate')).trim()
      const promoted = await newPrimary(sentinel!, before, began)
      const end = await settledFailoverEnd(sentinel!, promoted.address, began)
      return [
        `SENTINEL FAILOVER answered ${answer}; the sentinels named ${promoted.address} (was ${before}) after ${promoted.afterMs} ms`,
        ...againNote(end.primaries),
        `a replica streamed from ${end.primaries.at(-1)} after ${end.afterMs} ms (the failover's end for REDIS_WAIT_REPLICAS=1)`
      ]
    }
  },
  {
    name: 'b. Sentinel primary SIGKILLed',
    letter: 'b',
    drainMs: STALLED_JOB_DRAIN_MS,
    redis: 'sentinel',
    postSeconds: REPLICATED_POST_SECONDS,
    inject: async ({ redisSet }) => {
      const set = required(redisSet)
      const [sentinel] = sentinelPorts(set)
      const port = Number(set.env.SENTINEL_PRIMARY_PORT)
      const began = Date.now()
      const restart = await set.kill(port)
      const promoted = await newPrimary(sentinel!, `127.0.0.1:${port}`, began)
      // only once the replica is primary: without persistence, a primary restarted before would come back empty
      // and its replica would copy the empty data set
      const settled = settledFailoverEnd(sentinel!, promoted.address, began)
      const restartedInMs = await restart()
      const end = await settled
      return [
        `primary :${port} killed; the sentinels named ${promoted.address} after ${promoted.afterMs} ms`,
        ...againNote(end.primaries),
        `a replica streamed from ${end.primaries.at(-1)} after ${end.afterMs} ms (the failover's end for REDIS_WAIT_REPLICAS=1)`,
        `the old primary restarted then (in ${restartedInMs} ms), to rejoin as a replica, as a supervisor would`
      ]
    }
  },
  {
    name: 'c. Cluster primary SIGKILLed',
    letter: 'c',
    drainMs: STALLED_JOB_DRAIN_MS,
    redis: 'cluster',
    postSeconds: REPLICATED_POST_SECONDS,
    inject: async ({ redisSet }) => {
      const set = required(redisSet)
      const nodes = portsOf(set.env.REDIS_CLUSTER_NODES ?? '')
      const port = await clusterPrimaryPort(nodes[0]!)
      const replicas = await clusterReplicaPorts(nodes[0]!, port)
      const began = Date.now()
      const restart = await set.kill(port)
      const survivor = nodes.find((node) => node !== port)!
      let state = ''
      // the cluster is whole again once a replica took the dead primary's slots
      for (let seen = false; Date.now() - began < 30_000; await sleep(100)) {
        state = await redisCli(survivor, 'CLUSTER', 'INFO').catch(() => '')
        if (!seen) seen = state.includes('cluster_state:fail')
        else if (state.includes('cluster_state:ok')) break
      }
      const healedMs = Date.now() - began
      // as for Sentinel: restarted once its replica took over, so it rejoins as that replica's replica
      const acknowledgeable = acknowledgeableAfter(replicas, began)
      const restartedInMs = await restart()
      const acknowledgeableMs = await acknowledgeable
      return [
        `primary :${port} killed; cluster_state ok again after ${healedMs} ms`,
        `a replica streamed from its promoted replica after ${acknowledgeableMs} ms (the failover's end for REDIS_WAIT_REPLICAS=1)`,
        `the old primary restarted then (in ${restartedInMs} ms), to rejoin as a replica, as a supervisor would`
      ]
    }
  },
  {
    name: 'd. MongoDB-wire server SIGSTOP 5 s',
    letter: 'd',
    redis: 'plain',
    inject: async ({ mongo }) => {
      mongo.signal('SIGSTOP')
      try {
        await sleep(MONGO_STOP_MS)
      } finally {
        mongo.signal('SIGCONT')
      }
      return [`stopped for ${MONGO_STOP_MS / 1000} s`]
    }
  },
  {
    name: 'e. MongoDB-wire server killed, restarted',
    letter: 'e',
    redis: 'plain',
    inject: async ({ mongo, mongoPort }) => {
      const { ms, failedStarts } = await mongo.killAndRestart(mongoPort)
      const again = failedStarts === 0 ? '' : ` (${failedStarts} start${failedStarts === 1 ? '' : 's'} failed first: its port was taken)`
      return [`SIGKILLed and started again; it answered a MongoDB hello after ${ms} ms${again}`]
    }
  },
  {
    name: 'f. one of two API instances SIGKILLed',
    letter: 'f',
    redis: 'plain',
    inject: async ({ stack }) => {
      stack.kill(stack.apis[1]!)
      return ['api 2 SIGKILLed; the client leaves it out after its first refused connection']
    },
    restore: async ({ stack }) => { await stack.apis[1]!.stop(); await stack.startApi(1) }
  },
  {
    name: 'g. a delivery worker SIGKILLed',
    letter: 'g',
    redis: 'plain',
    drainMs: STALLED_JOB_DRAIN_MS,
    inject: async ({ stack }) => {
      stack.kill(stack.workers[0]!)
      return ['worker 1 SIGKILLed with jobs in flight; worker 2 runs on']
    },
    restore: async ({ stack }) => { await stack.workers[0]!.stop(); await stack.startWorker(0) }
  },
  {
    name: 'h. SendGrid answers 500 for 10 s',
    letter: 'h',
    redis: 'plain',
    // the email circuit opens after 5 failures in a row and refuses codes (503) for DELIVERY_BREAKER_OPEN_SECONDS (30)
    postSeconds: 40,
    drainMs: 60_000,
    inject: async ({ sendgrid }) => {
      sendgrid.answerAlways({ status: 500, body: { errors: [{ message: 'fake outage', field: null }] } })
      await sleep(PROVIDER_OUTAGE_MS)
      sendgrid.answerAlways({ status: 202, delayMs: 150 })
      return [`every request answered 500 for ${PROVIDER_OUTAGE_MS / 1000} s`]
    }
  }
]
