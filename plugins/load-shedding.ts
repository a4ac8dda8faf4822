import fp from 'fastify-plugin'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'

/** Routes that must answer even under pressure: `config: { pressureHandler: keepServing }`. */
export const keepServing = () => undefined

/**
 * Sheds load with 503 + Retry-After while the event loop lags or the heap is near its ceiling, so a
 * saturated instance answers fast instead of timing out; liveness keeps answering.
 */
async function loadSheddingPlugin (app: FastifyInstance, { config }: { config: Config }) {
  await app.register(underPressure, {
    maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.MAX_HEAP_USED_MB * 1024 * 1024,
    sampleInterval: 100,
    retryAfter: 2
  })
}

export default fp(loadSheddingPlugin, { name: 'load-shedding', fastify: '5.x' })
