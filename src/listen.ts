import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import type { Config } from './config.ts'

/**
 * Listens, and on SIGINT/SIGTERM stops accepting connections, lets in-flight requests finish
 * (new requests on open keep-alive connections get 503), closes Redis and MongoDB, and exits;
 * past SHUTDOWN_GRACE_MS the process exits anyway.
 */
export async function listenWithGrace (app: FastifyInstance, config: Config): Promise<string> {
  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    await app.close()
  })
  return app.listen({ host: config.HOST, port: config.PORT })
}
