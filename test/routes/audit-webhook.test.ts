import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { login, newEmail, startLogin } from '../helpers/login.ts'
import { startFakeHttpServer, type RecordedHttpRequest } from '../helpers/fake-http-server.ts'
import { createTestRedis, dumpKeys, uniqueKeyPrefix } from '../helpers/redis.ts'
import { eventually } from '../helpers/eventually.ts'

// Security round 3, point 5: audit-webhook jobs shared the code queue and its concurrency, so a receiver that hangs
// held back every code queued after a burst of events. Webhooks now have a queue, a worker and a concurrency of
// their own, POST signed batches, and count anonymous events instead of sending each.

const SECRET = 'a-webhook-secret-of-at-least-32-characters'

async function startReceiver (t: Test) {
  const receiver = await startFakeHttpServer({
    newDefaultReply: () => () => ({ status: 204 }), record: (request) => request
  })
  t.teardown(() => receiver.close())
  return receiver
}

// an address signs in more than once in some tests
const webhookEnv = (url: string, extra: Record<string, string> = {}) => ({
  AUDIT_WEBHOOK_URL: `${url}/hooks/audit`, AUDIT_WEBHOOK_SECRET: SECRET, AUDIT_WEBHOOK_FLUSH_MS: '50', OTP_RESEND_COOLDOWN_SECONDS: '0', ...extra
})

/** A wrong code for a fresh login of the address: no account behind an unknown one, so no user on its event. */
async function wrongCode (app: FastifyInstance, email: string, headers: Record<string, string> = {}) {
  const started = await startLogin(app, { email })
  if (started.statusCode !== 202) throw new Error(`start answered ${started.statusCode}`)
  const response = await app.inject({
    method: 'POST', url: '/v1/auth/otp/verify', headers, payload: { challengeId: started.json().challengeId, code: '000000' }
  })
  // a 1 in a million chance that 000000 was the code
  if (response.statusCode !== 400) throw new Error(`the wrong code answered ${response.statusCode}`)
}

/** The newest code the dev outbox holds for the address, without waiting for the queues to drain. */
async function codeInOutbox (app: FastifyInstance, email: string): Promise<boolean> {
  const response = await app.inject({ method: 'GET', url: '/v1/dev/outbox', query: { to: email } })
  return (response.json().messages as Array<{ code: string }> | undefined ?? []).some((message) => message.code !== '')
}

/** What a receiver does (docs/operations.md): `t` within the tolerance, and a v1 that is the HMAC of "t.body". */
function receiverAccepts (request: RecordedHttpRequest, nowSeconds: number, toleranceSeconds = 300): boolean {
  const header = String(request.headers['x-otpgate-signature'] ?? '')
  const fields = header.split(',').map((part) => part.split('='))
  const timestamp = Number(fields.find(([key]) => key === 't')?.[1])
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false
  // the fake parsed the JSON; our bodies are JSON.stringify's, which this gives back byte for byte
  const expected = createHmac('sha256', SECRET).update(`${timestamp}.${JSON.stringify(request.body)}`).digest()
  return fields.some(([key, value]) => key === 'v1' && value !== undefined && value.length === 64 &&
    timingSafeEqual(Buffer.from(value, 'hex'), expected))
}

t.test('a receiver that hangs holds back no code: the next code reaches the outbox while webhook jobs are pending', async (t) => {
  const receiver = await startReceiver(t)
  // every POST hangs past the test: the queue sees a timeout, long after the code must have gone
  receiver.answerAlways({ status: 204, delayMs: 30_000 })
  const app = await buildTestApp(t, {
    loadShedding: false,
    limiter: false,
    outbox: true,
    env: webhookEnv(receiver.url, {
      DELIVERY_CONCURRENCY: '2',
      // the old single queue's webhook timeout, and the new one: either way longer than "promptly"
      DELIVERY_TIMEOUT_MS: '15000',
      AUDIT_WEBHOOK_TIMEOUT_MS: '15000',
      SHUTDOWN_GRACE_MS: '500'
    })
  })
  for (let n = 0; n < 20; n++) await wrongCode(app, newEmail('anon'))
  await app.audit.flush()
  t.ok(await eventually(async () => receiver.requests.length >= 1, 10_000), 'a webhook POST is hanging')

  const email = newEmail('next')
  t.equal((await startLogin(app, { email })).statusCode, 202)
  const began = Date.now()
  // well under the 15 s a code stuck behind the hanging webhooks would take, with room for a loaded machine
  const delivered = await eventually(() => codeInOutbox(app, email), 8000)
  t.ok(delivered, `the code reached the outbox within 8 s (${Date.now() - began} ms) of being asked for`)
  t.ok(await app.auditWebhookQueue.pending() > 0, 'while webhook jobs were still pending')
  // the code's job is still active for a moment after its outbox write: it completes, nothing waits behind webhooks
  t.ok(await eventually(async () => await app.deliveryQueue.pending() === 0, 5000), 'and the code queue drains')
})

t.test('a POST carries a batch: user events in full, at most AUDIT_WEBHOOK_BATCH_MAX, anonymous ones only counted', async (t) => {
  const receiver = await startReceiver(t)
  const app = await buildTestApp(t, {
    loadShedding: false, limiter: false, outbox: true, env: webhookEnv(receiver.url, { AUDIT_WEBHOOK_BATCH_MAX: '2' })
  })
  const users = [await login(app, { email: newEmail('batch') }), await login(app, { email: newEmail('batch') })]
  const known = newEmail('known')
  users.push(await login(app, { email: known }))
  await wrongCode(app, known)
  for (let n = 0; n < 4; n++) await wrongCode(app, newEmail('anon'))
  await app.audit.flush()

  type Entry = Record<string, unknown>
  const events = () => receiver.requests.flatMap((request) => (request.body?.events ?? []) as Entry[])
  const counted = () => receiver.requests.flatMap((request) => (request.body?.anonymous ?? []) as Entry[])
    .filter((entry) => entry.type === 'sign_in_failed').reduce((sum, entry) => sum + Number(entry.count), 0)
  t.ok(await eventually(async () => events().length >= 4 && counted() >= 4, 10_000), 'every event arrived')
  await sleep(200)

  t.equal(events().length, 4, 'three sign-ins and the known address\'s wrong code')
  t.same(events().map((event) => event.userId).sort(), [...users.map(({ user }) => user.id), users[2]!.user.id].sort(),
    'each event carries its user')
  t.match(events().find((event) => event.type === 'sign_in_failed'), { userId: users[2]!.user.id, reason: 'invalid_code', ip: '127.0.0.1' })
  t.equal(counted(), 4, 'the four wrong codes without an account are one count')
  t.match(receiver.requests.find((request) => request.body?.anonymous?.length > 0)?.body.anonymous, [
    { type: 'sign_in_failed', reason: 'invalid_code', count: Number, firstAt: String, lastAt: String }
  ])
  t.notOk(JSON.stringify(receiver.requests.map((request) => request.body)).includes('anon-'), 'nothing names an anonymous address')
  for (const request of receiver.requests) {
    t.match(request, { method: 'POST', path: '/hooks/audit', headers: { 'content-type': 'application/json' } })
    t.ok(request.body.events.length <= 2, 'at most AUDIT_WEBHOOK_BATCH_MAX events a POST')
    t.equal(request.headers['x-otpgate-batch-id'], request.body.id, 'the batch id, to drop a repeat')
  }
})

t.test('each POST is signed with its time: a receiver accepts it now and refuses it once it is old', async (t) => {
  const receiver = await startReceiver(t)
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: webhookEnv(receiver.url) })
  await login(app, { email: newEmail('signed') })
  await app.audit.flush()
  const [request] = await receiver.received(1)
  const now = Math.floor(Date.now() / 1000)
  t.match(request?.headers['x-otpgate-signature'], /^t=\d+,v1=[0-9a-f]{64}$/)
  t.ok(receiverAccepts(request!, now), 'accepted when it arrives')
  t.notOk(receiverAccepts(request!, now + 301), 'refused when replayed more than 5 minutes later')
  t.notOk(receiverAccepts({ ...request!, body: { ...request!.body, events: [] } }, now), 'refused with another body')
  t.notOk('x-signature' in (request?.headers ?? {}), 'the untimed signature is gone: it could be replayed forever')
})

t.test('webhook bodies are sealed while queued and gone once delivered or refused', async (t) => {
  const receiver = await startReceiver(t)
  const redis = createTestRedis()
  t.teardown(() => redis.quit())
  const redisKeyPrefix = uniqueKeyPrefix('hook')
  const app = await buildTestApp(t, {
    loadShedding: false, outbox: true, redisKeyPrefix, env: webhookEnv(receiver.url, { AUDIT_WEBHOOK_MAX_ATTEMPTS: '3' })
  })
  const email = newEmail('sealed')
  await login(app, { email })
  await app.audit.flush()
  await receiver.received(1)
  receiver.reset()
  const agent = `sealed-test/${randomBytes(6).toString('hex')}`
  const headers = { 'user-agent': agent }

  // delivered: the receiver holds the POST a moment, while the job is in Redis
  receiver.queue({ status: 204, delayMs: 500 })
  await wrongCode(app, email, headers)
  await app.audit.flush()
  const [held] = await receiver.received(1)
  const whileQueued = await dumpKeys(redis, redisKeyPrefix)
  t.ok(JSON.stringify(held?.body).includes(agent), 'the receiver gets the user agent')
  t.notOk(whileQueued.includes(agent), 'Redis never holds it in the clear')
  const delivered = String(held?.body.id)
  t.ok(await eventually(async () => !(await dumpKeys(redis, redisKeyPrefix)).includes(delivered), 5000), 'a delivered batch is deleted')

  // refused: a 4xx is not retried, and the failed job is deleted too
  receiver.answerAlways({ status: 400 })
  await wrongCode(app, email, headers)
  await app.audit.flush()
  const requests = await receiver.received(2)
  const refused = String(requests[1]?.body.id)
  t.ok(await eventually(async () => await app.auditWebhookQueue.pending() === 0, 5000), 'settled')
  t.notOk((await dumpKeys(redis, redisKeyPrefix)).includes(refused), 'a refused batch is deleted at once')
  t.notOk((await dumpKeys(redis, redisKeyPrefix)).includes(agent), 'no user agent left anywhere')
  t.same(await app.auditWebhookQueue.failed(), [], 'the failed set keeps no webhook job')
})
