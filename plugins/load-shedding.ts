import fp from 'fastify-plugin'
import { setTimeout as sleep } from 'node:timers/promises'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { AppError } from '../src/errors.ts'
import { sendProblem } from './problem.ts'

const SAMPLE_INTERVAL_MS = 100

/** Routes that must answer even under pressure: `config: { pressureHandler: keepServing }`. */
export const keepServing = () => undefined

/**
 * Sheds load with 503 + Retry-After while the event loop lags or the heap is near its ceiling, so a
 * saturated instance answers fast instead of timing out; liveness keeps answering. Once shutdown starts,
 * requests still arriving on open connections get a 503 problem with `Connection: close`, so clients and
 * load balancers move on while in-flight requests finish.
 */
async function loadSheddingPlugin (app: FastifyInstance, { config }: { config: Config }) {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return
    reply.header('connection', 'close')
    return sendProblem(reply, new AppError('service_unavailable', { detail: 'The server is shutting down.', retryAfter: 1 }))
  })

  await app.register(underPressure, {
    maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.MAX_HEAP_USED_MB * 1024 * 1024,
    sampleInterval: SAMPLE_INTERVAL_MS,
    retryAfter: 2
  })
  // start-up (module loading, schema compilation) blocks the loop once; let that sample pass before serving
  app.addHook('onReady', async () => { await sleep(2 * SAMPLE_INTERVAL_MS) })
}

export default fp(loadSheddingPlugin, { name: 'load-shedding', fastify: '5.x' })
