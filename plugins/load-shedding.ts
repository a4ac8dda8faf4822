import fp from 'fastify-plugin'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { AppError } from '../src/errors.ts'
import { sendProblem } from './problem.ts'

// one second: the library reads a sample window with no tick at all as an infinite delay, so a shorter window
// would shed on every GC pause or busy neighbour; a full second of silence is a real stall
const SAMPLE_INTERVAL_MS = 1000

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
  // a callback hook: on every request, an async one would cost a promise for nothing; answering, it calls no done
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done()
    reply.header('connection', 'close')
    sendProblem(reply, new AppError('service_unavailable', { detail: 'The server is shutting down.', retryAfter: 1 }))
  })

  await app.register(underPressure, {
    maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.MAX_HEAP_USED_MB * 1024 * 1024,
    sampleInterval: SAMPLE_INTERVAL_MS,
    retryAfter: 2
  })
}

export default fp(loadSheddingPlugin, { name: 'load-shedding', fastify: '5.x' })
