import fp from 'fastify-plugin'
import { Redis, Cluster, type RedisOptions } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { RepeatedErrorLog } from '../src/telemetry/repeated-error-log.ts'

export type RedisClient = Redis | Cluster

declare module 'fastify' {
  interface FastifyInstance {
    /** null in the embedded mode (no REDIS_URL) */
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

export function createRedisClient (config: Config): RedisClient | null {
  if (config.REDIS_CLUSTER_NODES.length > 0) {
    const nodes = config.REDIS_CLUSTER_NODES.map((node) => {
      const [host, port] = node.split(':')
      return { host: host ?? '127.0.0.1', port: Number(port) }
    })
    return new Cluster(nodes, {
      lazyConnect: true,
      enableOfflineQueue: false,
      redisOptions: redisOptions(config),
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1000)
    })
  }
  if (config.REDIS_URL === undefined) return null
  return new Redis(config.REDIS_URL, redisOptions(config))
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
  app.addHook('onClose', async () => { await redis.quit().catch(() => redis.disconnect()) })
}

export default fp(redisPlugin, { name: 'redis', fastify: '5.x' })
