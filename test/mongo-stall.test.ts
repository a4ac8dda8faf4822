import t, { type Test } from 'tap'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildTestApp, testConfig } from './helpers/build-app.ts'
import { startDisposableMongo } from './helpers/disposable-server.ts'
import { bearer, codeFromOutbox, login, newEmail, startLogin } from './helpers/login.ts'
import { eventually } from './helpers/eventually.ts'

// small, so that a stall answered by the driver's 10 s socket timeout stands far from one answered by this budget,
// yet not so small that FerretDB on a busy CI machine misses it before the stall
const STORE_TIMEOUT_MS = 1000
// generous: 5× the budget, still half the driver's socket timeout (10 s)
const ANSWER_BOUND_MS = STORE_TIMEOUT_MS * 5

async function timed (app: FastifyInstance, request: InjectOptions) {
  const started = Date.now()
  const response = await app.inject(request)
  return { response, ms: Date.now() - started }
}

/** 503 service_unavailable with Retry-After, never a 401 that would make a client drop its tokens. */
async function failsClosed (t: Test, app: FastifyInstance, request: InjectOptions, what: string): Promise<void> {
  const { response, ms } = await timed(app, request)
  t.equal(response.statusCode, 503, `${what}: 503 (not 401): ${response.body}`)
  t.equal(response.json().code, 'service_unavailable', `${what}: code`)
  t.ok(Number(response.headers['retry-after']) > 0, `${what}: Retry-After`)
  t.ok(ms < ANSWER_BOUND_MS, `${what}: answered while MongoDB is still stopped, in ${ms} ms (budget ${STORE_TIMEOUT_MS} ms)`)
}

t.test('MongoDB stalled (SIGSTOP): authenticated routes and verify answer 503 within the store budget, and recover', async (t) => {
  const mongo = await startDisposableMongo()
  t.teardown(() => mongo.dispose())
  const app = await buildTestApp(t, {}, testConfig(t, {
    loadShedding: false,
    outbox: true,
    env: { MONGODB_URL: mongo.url, STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS) }
  }))
  const session = await login(app, { email: newEmail() })
  const email = newEmail()
  const started = await startLogin(app, { email })
  const code = await codeFromOutbox(app, email)
  const me = { method: 'GET' as const, url: '/v1/me', headers: bearer(session.accessToken) }

  const stalled = async (request: InjectOptions, what: string) => {
    // each request meets a fresh stall: the first operation on a frozen server is the one that waits longest
    mongo.pause()
    try {
      await failsClosed(t, app, request, what)
    } finally {
      mongo.resume()
    }
    t.ok(await eventually(async () => (await app.inject(me)).statusCode === 200, 15_000), `${what}: recovers once MongoDB answers`)
  }
  await stalled(me, 'GET /v1/me')
  await stalled({ method: 'GET', url: '/v1/me/sessions', headers: bearer(session.accessToken) }, 'GET /v1/me/sessions')
  await stalled({ method: 'GET', url: '/v1/me/activity', headers: bearer(session.accessToken) }, 'GET /v1/me/activity')
  await stalled({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } }, 'verify')

  // a "not before" in the very second the token was issued: Redis cannot decide, the session check asks MongoDB
  const { iat } = app.jwt.decode<{ iat: number }>(session.accessToken) ?? { iat: 0 }
  await app.revocations.revokeUserBefore(session.user.id, new Date(iat * 1000 + 999), 900)
  await stalled(me, 'GET /v1/me whose session check reads MongoDB')
  t.equal((await app.inject(me)).statusCode, 200, 'the same access token works: the outages did not end the session')
})
