import fp from 'fastify-plugin'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import type { FastifyInstance } from 'fastify'
import type { Tracing } from '../src/telemetry/tracing.ts'
import { traceMongoCommands } from '../src/telemetry/mongo-spans.ts'
import { UNMATCHED_ROUTE } from './metrics.ts'

/**
 * Route spans through @fastify/otel when tracing is on; registered before every route so it sees them all. The
 * request span's url.path is replaced by the route pattern (a path holds ids, a query string addresses), and
 * exceptions are not recorded (their messages may quote store arguments). MongoDB commands get spans once the
 * connection exists; the provider is flushed and unregistered when the app closes.
 */
async function tracingPlugin (app: FastifyInstance, { tracing }: { tracing: Tracing | null }) {
  if (tracing === null) return
  const instrumentation = new FastifyOtelInstrumentation({
    recordExceptions: false,
    requestHook: (span, request) => { span.setAttribute('url.path', request.routeOptions.url ?? UNMATCHED_ROUTE) }
  })
  instrumentation.setTracerProvider(tracing.provider)
  await app.register(instrumentation.plugin())
  let stopMongo = () => {}
  app.addHook('onReady', async () => {
    if (app.mongo) stopMongo = traceMongoCommands(app.mongo.getClient(), tracing.tracer)
  })
  app.addHook('onClose', async () => {
    stopMongo()
    await tracing.shutdown()
  })
}

export default fp(tracingPlugin, { name: 'tracing', fastify: '5.x' })
