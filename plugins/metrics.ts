import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../src/config.ts'
import { isAppError } from '../src/errors.ts'
import { NO_METRICS, type Metrics } from '../src/metrics/metrics.ts'
import { PrometheusMetrics } from '../src/metrics/prometheus-metrics.ts'
import { isStoreUnavailable, storeErrorSummary } from '../src/stores/store-errors.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** what the flows count; a no-op unless METRICS_PORT is set */
    metrics: Metrics
    /** the registry plugins/listen.ts serves on METRICS_PORT; null when metrics are off */
    prometheus: PrometheusMetrics | null
  }
}

/** The label of a request that matched no route: a fixed word, so unknown URLs never become series. */
export const UNMATCHED_ROUTE = 'unmatched'
const routeOf = (request: FastifyRequest) => request.routeOptions.url ?? UNMATCHED_ROUTE

/**
 * Metrics when METRICS_PORT is set: request durations by route pattern, rate-limit refusals and store errors
 * seen by requests. Off, it adds no hook at all.
 */
async function metricsPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const prometheus = config.METRICS_PORT === undefined
    ? null
    : new PrometheusMetrics({ conversionWindowSeconds: config.SMS_FRAUD_WINDOW_SECONDS })
  app.decorate('metrics', prometheus ?? NO_METRICS)
  app.decorate('prometheus', prometheus)
  if (prometheus === null) return

  // a callback hook: on every request, an async one would cost a promise for nothing
  app.addHook('onResponse', (request, reply, done) => {
    prometheus.observeRequest(request.method, routeOf(request), reply.statusCode, reply.elapsedTime / 1000)
    done()
  })
  app.addHook('onError', async (request, _reply, error) => {
    if (isAppError(error) && (error.code === 'rate_limited' || error.code === 'cooldown')) prometheus.rateLimited(routeOf(request))
    const summary = storeErrorSummary(error)
    if (summary !== null) {
      prometheus.storeError(summary.type.startsWith('Mongo') ? 'mongodb' : 'redis', isStoreUnavailable(error) ? 'unavailable' : 'error')
    }
  })
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' })
