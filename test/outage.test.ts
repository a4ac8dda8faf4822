import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import { loggerOptions } from '../plugins/logger.ts'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, testConfig } from './helpers/build-app.ts'
import { freePort, startDisposableMongo, startDisposableRedis } from './helpers/disposable-server.ts'
import { bearer, codeFromOutbox, login, newEmail, startLogin } from './helpers/login.ts'
import { eventually } from './helpers/eventually.ts'

interface Timed { statusCode: number, body: string, headers: Record<string, unknown>, ms: number }

async function timed (app: FastifyInstance, request: { method: 'GET' | 'POST', url: string, payload?: object, headers?: Record<string, string> }): Promise<Timed> {
  const started = Date.now()
  const response = await app.inject(request)
  return { statusCode: response.statusCode, body: response.body, headers: response.headers, ms: Date.now() - started }
}

/** 503 service_unavailable with Retry-After, fast, and nothing that looks like a token. */
function failsClosed (t: Test, response: Timed, what: string): void {
  t.equal(response.statusCode, 503, `${what}: 503`)
  // within a few STORE_TIMEOUT_MS (1.5 s), far from the drivers' own 10 s and 30 s, with room for a loaded machine
  t.ok(response.ms < 5000, `${what}: answered in ${response.ms} ms`)
  t.ok(Number(response.headers['retry-after']) > 0, `${what}: Retry-After`)
  t.equal(JSON.parse(response.body).code, 'service_unavailable', `${what}: code`)
  t.notMatch(response.body, /accessToken|refreshToken|challengeId/, `${what}: no token, no challenge`)
}

t.test('Redis stopped: start, verify and refresh fail closed with 503; the API recovers by itself', async (t) => {
  const redis = await startDisposableRedis()
  t.teardown(() => redis.dispose())
  // the per-IP limits on (no `limiter: false`), so the refresh route depends on Redis too: it must not fail open
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { REDIS_URL: redis.url } })
  const session = await login(app, { email: newEmail() })
  const email = newEmail()
  const started = await startLogin(app, { email })
  const code = await codeFromOutbox(app, email)

  await redis.stop()
  failsClosed(t, await timed(app, { method: 'POST', url: '/v1/auth/otp', payload: { email: newEmail() } }), 'start')
  failsClosed(t, await timed(app, { method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } }), 'verify with the right code')
  failsClosed(t, await timed(app, { method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } }), 'refresh')
  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200, 'live stays 200')

  await redis.start()
  const recovered = await eventually(
    async () => (await startLogin(app, { email: newEmail() })).statusCode === 202, 10_000
  )
  t.ok(recovered, 'codes are issued again once Redis is back, without a restart')
})

t.test('MongoDB stopped: verify and refresh fail closed with 503, and the challenge is not burned', async (t) => {
  const mongo = await startDisposableMongo()
  t.teardown(() => mongo.dispose())
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { MONGODB_URL: mongo.url } })
  const session = await login(app, { email: newEmail() })
  const ended = await login(app, { email: newEmail() })
  t.equal((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(ended.accessToken) })).statusCode, 204)
  const email = newEmail()
  const started = await startLogin(app, { email })
  const code = await codeFromOutbox(app, email)
  const verify = { method: 'POST' as const, url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } }

  await mongo.stop()
  // the user's status is read beside the revocation state: a live token waits for it, an ended one does not
  failsClosed(t, await timed(app, { method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) }), 'an authenticated request')
  const refused = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(ended.accessToken) })
  t.equal(refused.statusCode, 401, 'the token of an ended session is still refused: Redis alone decides that')
  failsClosed(t, await timed(app, verify), 'verify with the right code')
  failsClosed(t, await timed(app, { method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } }), 'refresh')
  failsClosed(t, await timed(app, { method: 'POST', url: '/v1/auth/otp', payload: { email: newEmail() } }), 'start')
  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200, 'live stays 200')

  await mongo.start()
  let answer: Timed | undefined
  const recovered = await eventually(async () => {
    answer = await timed(app, verify)
    return answer.statusCode !== 503
  }, 15_000)
  t.ok(recovered, 'MongoDB answers again without a restart')
  t.equal(answer?.statusCode, 200, 'the same code still logs in: the outage did not burn the challenge')
  t.match(JSON.parse(answer?.body ?? '{}'), { accessToken: String, user: { email } })
})

t.test('Redis refusing writes (OOM, READONLY): 503 with Retry-After, and the log names the error, never the command\'s arguments', async (t) => {
  const redis = await startDisposableRedis()
  t.teardown(() => redis.dispose())
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done() } })
  // no queue worker here: this test is about the request path, and a worker whose blocking read the failover cut
  // off lingers reconnecting after the app closes (noted as a known issue of the queue). No per-IP limiter either:
  // its script would be the command that fails, not the route's own
  const config = testConfig(t, { limiter: false, loadShedding: false, outbox: true, env: { REDIS_URL: redis.url, LOG_LEVEL: 'info', DELIVERY_WORKER: 'false', TEST_IDENTIFIERS: '*@fixed.example=135790' } })
  // the app's own logger configuration, written to a stream of the test's
  const app = await buildTestApp(t, { logger: { ...loggerOptions(config) as object, stream } as never }, config)
  const admin = new Redis(redis.url)
  t.teardown(() => admin.disconnect())
  const email = newEmail('pii')
  // a test identifier's fixed code: nothing to deliver
  const started = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email: `outage-${Date.now()}@fixed.example` } })
  const session = (await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code: '135790' } })).json()

  await admin.config('SET', 'maxmemory-policy', 'noeviction')
  await admin.config('SET', 'maxmemory', '1')
  await t.rejects(admin.set('probe', '1'), /^OOM/, 'Redis refuses writes')
  failsClosed(t, await timed(app, { method: 'POST', url: '/v1/auth/logout', headers: { authorization: `Bearer ${session.accessToken}` } }), 'logout while Redis is out of memory')
  await admin.config('SET', 'maxmemory', '0')

  await admin.replicaof('127.0.0.1', await freePort())
  failsClosed(t, await timed(app, { method: 'POST', url: '/v1/auth/otp', payload: { email } }), 'start while Redis is a read-only replica')
  await admin.replicaof('NO', 'ONE')

  t.notOk(lines.join('\n').includes(email), 'the email is not in the logs')
  const errors = lines.map((line) => JSON.parse(line)).filter((entry) => entry.err)
  // the requests' errors, and the delivery queue's own (its worker's blocking read is cut off by the failover)
  for (const { err } of errors) {
    t.ok(Object.keys(err).every((key) => ['command', 'errorCode', 'type'].includes(key)), `only type, command and code: ${JSON.stringify(err)}`)
  }
  const requestErrors = errors.filter((entry) => entry.reqId)
  t.same(requestErrors.map(({ err }) => `${err.errorCode} ${err.command}`), ['OOM set', 'READONLY evalsha'], 'both failures logged')
})
