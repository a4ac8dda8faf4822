import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'

export interface MetricsSource {
  contentType: string
  render: () => Promise<string>
}

/**
 * GET /metrics in the Prometheus text format, on a listener of its own (METRICS_PORT): never on the API's port,
 * where it would be public. Everything else answers 404.
 */
export function buildMetricsServer (source: MetricsSource, logger: FastifyServerOptions['logger'] = false): FastifyInstance {
  const app = Fastify({ logger })
  app.get('/metrics', async (_request, reply) => reply.type(source.contentType).send(await source.render()))
  return app
}
