import fp from 'fastify-plugin'
import { Redis, Cluster, type RedisOptions } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { RepeatedErrorLog } from '../src/telemetry/repeated-error-log.ts'
import { AnnouncedMaster, followSentinelSwitches } from '../src/stores/sentinel-switch.ts'
import { connectEveryNode, refreshSlotsOnNodeFailure } from '../src/stores/cluster-slots.ts'

export type RedisClient = Redis | Cluster

declare module 'fastify' {
  interface FastifyInstance {
    /** null in the embedded mode (no REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES) */
    redis: RedisClient | null
  }
}

/** Fail fast: a command never waits in an offline queue, and never outlives STORE_TIMEOUT_MS. */
export function redisOptions (config: Config): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.STORE_TIMEOUT_MS,
    connectTimeout: config.STORE_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000)
  }
}

const hostAndPort = (node: string) => {
  const [host, port] = node.split(':')
  return { host: host ?? '127.0.0.1', port: Number(port) }
}

/**
 * The one Redis connection a process makes: a Cluster (REDIS_CLUSTER_NODES), the master a Sentinel set names
 * (REDIS_SENTINELS), or REDIS_URL; null in the embedded mode.
 */
export function createRedisClient (config: Config): RedisClient | null {
  if (config.REDIS_CLUSTER_NODES.length > 0) {
    const cluster = new Cluster(config.REDIS_CLUSTER_NODES.map(hostAndPort), {
      lazyConnect: true,
      enableOfflineQueue: false,
      redisOptions: redisOptions(config),
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      // fail fast, as outside a Cluster: a command that meets a failover (CLUSTERDOWN, its node's connection
      // closed) is refused at once (503 with Retry-After), not retried every 100 ms up to 16 times, which
      // outlasts the store deadline. Redirections (MOVED, ASK) are still followed at once
      retryDelayOnClusterDown: 0,
      retryDelayOnFailover: 0
    })
    refreshSlotsOnNodeFailure(cluster)
    return cluster
  }
  if (config.REDIS_SENTINELS.length > 0) {
    // ioredis asks the Sentinels for the master and checks its role on every (re)connection; followSentinelSwitches
    // moves it as soon as they announce a new one. During a failover commands fail fast (503) rather than queue,
    // and a write a demoted master refuses (READONLY) makes the client look again
    const sentinels = config.REDIS_SENTINELS.map(hostAndPort)
    const name = config.REDIS_SENTINEL_NAME ?? ''
    const announced = new AnnouncedMaster(name)
    const client = new Redis({
      ...redisOptions(config),
      sentinels,
      name,
      role: 'master',
      sentinelCommandTimeout: config.STORE_TIMEOUT_MS,
      sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      // a client that lost its master retries through the Sentinels, each try asking them for the master anew:
      // often enough to be on the new one within a tenth of a second of its promotion (a Sentinel answers a
      // few such questions per client and second while a master is down, nothing otherwise)
      retryStrategy: (attempt) => Math.min(attempt * 50, 100),
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
      // a Sentinel that has not heard of the failover yet would name the old master: the announcement corrects it
      natMap: announced.natMap
    })
    followSentinelSwitches(client, sentinels, announced)
    return client
  }
  if (config.REDIS_URL === undefined) return null
  return new Redis(config.REDIS_URL, redisOptions(config))
}

/**
 * Readiness: the connection answers, and (outside a Cluster, whose client routes to masters itself) as a master.
 * A replica answers a ping too, but refuses every write: with Sentinel that is the moment after a failover when
 * the client still talks to the demoted master.
 */
export async function redisReady (redis: RedisClient): Promise<void> {
  if (redis instanceof Cluster) {
    await redis.ping()
    return
  }
  const [role] = await redis.role() as [string, ...unknown[]]
  if (role !== 'master') throw new Error(`Redis answers as a ${role}, not the master`)
}

/** QUIT (what was sent is answered first), then the connection dropped whatever QUIT met (a server gone). */
export async function closeRedis (redis: RedisClient): Promise<void> {
  await redis.quit().catch(() => {})
  redis.disconnect()
}

async function redisPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const redis = createRedisClient(config)
  app.decorate<RedisClient | null>('redis', redis)
  if (redis === null) return
  // errors surface per command; the event only needs a listener so it does not crash the process. A server that
  // is gone fails each reconnection (every second at most): one line per kind of error every 10 s
  const errors = new RepeatedErrorLog(app.log)
  redis.on('error', (error: Error) => { errors.warn(error, 'redis connection error', { err: error.message }) })
  await redis.connect()
  if (redis instanceof Cluster) await connectEveryNode(redis, config.STORE_TIMEOUT_MS)
  app.addHook('onClose', () => closeRedis(redis))
}

export default fp(redisPlugin, { name: 'redis', fastify: '5.x' })
