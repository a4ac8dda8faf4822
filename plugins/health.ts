import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError } from '../src/errors.ts'
import { sendProblem } from './problem.ts'
import { jsonResponse, problemResponses } from './schemas/responses.ts'
import { keepServing } from './load-shedding.ts'
import { redisReady } from './redis.ts'

const HealthSchema = Type.Object({
  status: Type.Literal('ok'),
  checks: Type.Optional(Type.Record(Type.String(), Type.Literal('ok')))
}, { examples: [{ status: 'ok', checks: { redis: 'ok', mongodb: 'ok' } }] })

const withTimeout = async (promise: Promise<unknown>, ms: number) => {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([promise, new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/** Liveness (the process answers) and readiness (every configured store answers a ping). */
const healthRoutes: FastifyPluginAsyncTypebox<{ pingTimeoutMs: number }> = async (app, { pingTimeoutMs }) => {
  const { redis, mongo } = app

  app.get('/health/live', {
    config: { pressureHandler: keepServing },
    schema: { operationId: 'getLiveness', summary: 'The process is up', tags: ['health'], security: [], response: { 200: jsonResponse('The process answers', HealthSchema), ...problemResponses() } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/health/ready', {
    schema: { operationId: 'getReadiness', summary: 'Redis and MongoDB answer', tags: ['health'], security: [], response: { 200: jsonResponse('Every configured store answered a ping', HealthSchema), ...problemResponses() } }
  }, async (request, reply) => {
    const checks: Record<string, Promise<unknown>> = {}
    if (redis) checks.redis = redisReady(redis)
    if (mongo) checks.mongodb = mongo.db ? mongo.db.admin().ping() : Promise.reject(new Error('not connected'))
    const results = await Promise.allSettled(Object.values(checks).map((check) => withTimeout(check, pingTimeoutMs)))
    const down = Object.keys(checks).filter((_name, index) => results[index]?.status === 'rejected')
    if (down.length > 0) {
      request.log.warn({ down }, 'not ready')
      return sendProblem(reply, new AppError('service_unavailable', { detail: `Not ready: ${down.join(', ')} unreachable.`, retryAfter: 1 }))
    }
    return { status: 'ok' as const, checks: Object.fromEntries(Object.keys(checks).map((name) => [name, 'ok' as const])) }
  })
}

export default healthRoutes
