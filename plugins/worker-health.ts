import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { redisReady } from './redis.ts'

/**
 * The delivery worker's only HTTP surface: liveness (the process answers) and readiness (Redis, where the queue
 * lives, answers a ping within pingTimeoutMs, as the master). Not the API's app: no routes, no OpenAPI, no rate limits.
 */
export function buildWorkerHealthServer (redis: Redis | Cluster, options: { logger: FastifyServerOptions['logger'], pingTimeoutMs: number }): FastifyInstance {
  const app = Fastify({ logger: options.logger })
  app.get('/health/live', async () => ({ status: 'ok' }))
  app.get('/health/ready', async (request, reply) => {
    try {
      await Promise.race([redisReady(redis), new Promise((_resolve, reject) => setTimeout(() => reject(new Error('timeout')), options.pingTimeoutMs).unref())])
      return { status: 'ok', checks: { redis: 'ok' } }
    } catch {
      request.log.warn({ down: ['redis'] }, 'not ready')
      return reply.code(503).header('retry-after', '1').type('application/problem+json')
        .send({ type: 'about:blank', title: 'Service temporarily unavailable', status: 503, code: 'service_unavailable', detail: 'Not ready: redis unreachable.' })
    }
  })
  return app
}
