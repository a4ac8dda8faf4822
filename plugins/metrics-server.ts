import { createHash, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Config } from '../src/config.ts'

export interface MetricsSource {
  contentType: string
  render: () => Promise<string>
}

export interface MetricsServerOptions {
  logger?: FastifyServerOptions['logger']
  /** when set, a scrape must send `Authorization: Bearer <token>` (METRICS_TOKEN) */
  token?: string | undefined
}

// hashed first, so the compare takes the same time whatever the length of what was sent
const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * GET /metrics in the Prometheus text format, on a listener of its own (METRICS_PORT): never on the API's port,
 * where it would be public. Everything else answers 404; without the token, when one is set, 401.
 */
export function buildMetricsServer (source: MetricsSource, options: MetricsServerOptions = {}): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false })
  const expected = options.token === undefined ? null : digest(`Bearer ${options.token}`)
  if (expected !== null) {
    app.addHook('onRequest', async (request, reply) => {
      if (!timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send()
      }
    })
  }
  app.get('/metrics', async (_request, reply) => reply.type(source.contentType).send(await source.render()))
  return app
}

/** The metrics server as configured, listening on METRICS_HOST:METRICS_PORT (never HOST: see settings.ts). */
export async function serveMetrics (
  source: MetricsSource, config: Pick<Config, 'METRICS_HOST' | 'METRICS_PORT' | 'METRICS_TOKEN'>, logger?: FastifyServerOptions['logger']
): Promise<FastifyInstance> {
  const server = buildMetricsServer(source, { logger, token: config.METRICS_TOKEN })
  await server.listen({ host: config.METRICS_HOST, port: config.METRICS_PORT ?? 0 })
  return server
}
