import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, type TestAppOptions } from './build-app.ts'
import { claimsOf } from './totp.ts'

/** The two ways the app runs for a client: the embedded in-process stores, and Redis with the MongoDB-wire server. */
export const MODES = ['memory', 'real'] as const satisfies Array<TestAppOptions['stores']>

export interface ListeningApp {
  app: FastifyInstance
  baseUrl: string
  /** refresh requests that reached the server so far */
  refreshes: () => number
}

/** The real app listening on a free loopback port, counting the refresh requests it receives. */
export async function listeningApp (t: Test, options: TestAppOptions = {}): Promise<ListeningApp> {
  const app = await buildTestApp(t, options)
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' })
  let refreshes = 0
  app.server.on('request', (request: { method?: string, url?: string }) => {
    if (request.method === 'POST' && request.url === '/v1/auth/token/refresh') refreshes++
  })
  return { app, baseUrl, refreshes: () => refreshes }
}

/**
 * The same access token, signed by the server with an issue time one lifetime and a minute ago: expired for the
 * server, whatever the client believes.
 */
export function expiredTwin (app: FastifyInstance, accessToken: string, ttlSeconds = 900): string {
  const { sub, sid, amr } = claimsOf(accessToken)
  const iat = Math.floor(Date.now() / 1000) - ttlSeconds - 60
  return app.jwt.sign({ sub, sid, amr, iat } as never)
}
