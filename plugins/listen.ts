import cluster from 'node:cluster'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { serveMetrics } from './metrics-server.ts'
import { answerPrimaryScrapes } from '../src/metrics/cluster-metrics.ts'

/**
 * Listens, and on SIGINT/SIGTERM stops accepting connections, lets in-flight requests finish
 * (new requests on open keep-alive connections get 503), closes Redis and MongoDB, and exits;
 * past SHUTDOWN_GRACE_MS the process exits anyway.
 */
export async function listenWithGrace (app: FastifyInstance, config: Config): Promise<string> {
  const metricsServer = await exposeMetrics(app, config)
  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    await app.close()
    await metricsServer?.close()
  })
  return app.listen({ host: config.HOST, port: config.PORT })
}

/**
 * With METRICS_PORT: GET /metrics on METRICS_HOST and that port, or, in a node:cluster worker, this process's registry
 * handed to the primary, which serves the whole instance's (src/server.ts). Null when nothing listens here.
 */
export async function exposeMetrics (app: FastifyInstance, config: Config): Promise<FastifyInstance | null> {
  if (app.prometheus === null || config.METRICS_PORT === undefined) return null
  if (cluster.isWorker) {
    answerPrimaryScrapes(app.prometheus)
    return null
  }
  const server = await serveMetrics(app.prometheus, config)
  app.log.info({ host: config.METRICS_HOST, port: config.METRICS_PORT, bearerToken: config.METRICS_TOKEN !== undefined }, 'metrics served at /metrics')
  return server
}
