import fp from 'fastify-plugin'
import mongoose, { type Connection } from 'mongoose'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** null in the embedded mode (no MONGODB_URL) */
    mongo: Connection | null
  }
}

/**
 * Fail fast: no command buffering while disconnected, and a short server-selection budget. `monitorCommands`:
 * the driver's command events, for tracing and for tests that count round trips; off otherwise, since with it on
 * the driver builds an event for every command and decodes every reply a second time, listened to or not.
 */
export async function connectMongo (url: string, timeoutMs: number, monitorCommands = false): Promise<Connection> {
  const connection = mongoose.createConnection(url, {
    bufferCommands: false,
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: Math.max(timeoutMs * 4, 10_000),
    maxPoolSize: 50,
    autoIndex: false,
    monitorCommands
  })
  await connection.asPromise()
  return connection
}

async function mongoPlugin (
  app: FastifyInstance, { config, monitorCommands }: { config: Config, monitorCommands: boolean }
) {
  if (config.MONGODB_URL === undefined) {
    app.decorate('mongo', null)
    return
  }
  const connection = await connectMongo(config.MONGODB_URL, config.STORE_TIMEOUT_MS, monitorCommands)
  app.addHook('onClose', async () => { await connection.close() })
  app.decorate('mongo', connection)
}

export default fp(mongoPlugin, { name: 'mongo', fastify: '5.x' })
