import { createHmac } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail, startLogin } from '../helpers/login.ts'
import { startFakeHttpServer } from '../helpers/fake-http-server.ts'

// one address signs in again and again here
const env = { OTP_RESEND_COOLDOWN_SECONDS: '0' }

const activity = (app: FastifyInstance, accessToken: string, query: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url: '/v1/me/activity', headers: bearer(accessToken), query })

/** A wrong code for the address's pending login, sent with a user agent and a request id of our own. */
async function wrongCode (app: FastifyInstance, email: string) {
  const { challengeId } = (await startLogin(app, { email })).json()
  const response = await app.inject({
    method: 'POST',
    url: '/v1/auth/otp/verify',
    headers: { 'user-agent': 'activity-test/1.0', 'x-request-id': 'wrong-code-1' },
    payload: { challengeId, code: '000000' }
  })
  // a 1 in a million chance that 000000 was the code
  if (response.statusCode !== 400) throw new Error(`the wrong code answered ${response.statusCode}`)
}

for (const stores of ['real', 'memory'] as const) {
  t.test(`${stores} stores: a login, a wrong code and a logout are the user's activity, newest first, theirs only`, async (t) => {
    const app = await buildTestApp(t, { stores, loadShedding: false, outbox: true, env })
    const email = newEmail('activity')
    const reader = await login(app, { email })
    const other = await login(app, { email: newEmail('other') })
    await wrongCode(app, newEmail('nobody'))

    const session = await login(app, { email })
    await wrongCode(app, email)
    t.equal((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(session.accessToken) })).statusCode, 204)

    const response = await activity(app, reader.accessToken)
    t.equal(response.statusCode, 200)
    const { events, nextCursor } = response.json()
    t.same(events.map((event: { type: string }) => event.type), ['session_ended', 'sign_in_failed', 'sign_in_succeeded', 'sign_in_succeeded'],
      'the logout, the wrong code, the login, and the reader\'s own login: nothing of the other user nor the unknown address')
    t.equal(nextCursor, null)
    const [logout, failed, signedIn] = events
    t.match(logout, { reason: 'logout', ip: '127.0.0.1' })
    t.match(failed, { amr: ['otp'], reason: 'invalid_code', userAgent: 'activity-test/1.0', requestId: 'wrong-code-1', identifier: /^a\*\*\*@example\.org$/ })
    t.match(signedIn, { amr: ['otp'], identifier: /^a\*\*\*@example\.org$/, ip: '127.0.0.1' })
    t.notOk(JSON.stringify(events).includes(email), 'identifiers are masked')

    const theirs = (await activity(app, other.accessToken)).json().events
    t.same(theirs.map((event: { type: string }) => event.type), ['sign_in_succeeded'])
  })
}

t.test('pages with limit and cursor; a cursor that is not one is 400 problem+json', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env })
  const email = newEmail('pages')
  let accessToken = ''
  for (let n = 0; n < 5; n++) accessToken = (await login(app, { email })).accessToken
  const all = (await activity(app, accessToken)).json().events.map((event: { id: string }) => event.id)
  t.equal(all.length, 5)
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const query: Record<string, string> = cursor === null ? { limit: '2' } : { limit: '2', cursor }
    const page: { events: Array<{ id: string }>, nextCursor: string | null } =
      (await activity(app, accessToken, query)).json()
    seen.push(...page.events.map((event) => event.id))
    cursor = page.nextCursor
  } while (cursor !== null)
  t.same(seen, all, 'every event once, in order')

  const bad = await activity(app, accessToken, { cursor: 'not-a-cursor' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(bad.json(), { code: 'bad_request', detail: /cursor/ })
  t.equal((await activity(app, accessToken, { limit: '101' })).json().code, 'validation_failed')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me/activity' })).statusCode, 401)
})

t.test('AUDIT_WEBHOOK_URL: each event is posted in a signed batch, through its queue, and retried after a failure', async (t) => {
  const receiver = await startFakeHttpServer({
    newDefaultReply: () => () => ({ status: 204 }), record: (request) => request
  })
  t.teardown(() => receiver.close())
  const secret = 'a-webhook-secret-of-at-least-32-characters'
  const app = await buildTestApp(t, {
    loadShedding: false,
    outbox: true,
    env: { AUDIT_WEBHOOK_URL: `${receiver.url}/hooks/audit`, AUDIT_WEBHOOK_SECRET: secret, AUDIT_WEBHOOK_RETRY_BASE_MS: '10', AUDIT_WEBHOOK_FLUSH_MS: '20' }
  })
  receiver.queue({ status: 503 })
  const { user } = await login(app, { email: newEmail('hook') })

  const deadline = Date.now() + 10_000
  while (receiver.requests.filter((request) => request.status === 204).length < 1 && Date.now() < deadline) {
    await app.audit.flush()
    await sleep(10)
  }
  const [failedTry, delivered] = receiver.requests
  t.equal(failedTry?.status, 503, 'the first try failed…')
  t.equal(delivered?.status, 204, '…and the queue tried again')
  t.equal(delivered?.path, '/hooks/audit')
  t.same(delivered?.body, failedTry?.body, 'the same batch')
  t.match(delivered?.body.events, [{ type: 'sign_in_succeeded', userId: user.id, amr: ['otp'] }])
  const raw = JSON.stringify(delivered?.body)
  const [, signedAt, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(delivered?.headers['x-otpgate-signature'])) ?? []
  t.equal(v1, createHmac('sha256', secret).update(`${signedAt}.${raw}`).digest('hex'), 'X-OtpGate-Signature is the HMAC of "t.body"')
  t.equal(delivered?.headers['x-otpgate-batch-id'], delivered?.body.id)
})
