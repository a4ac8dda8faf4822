import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { createAuditWebhookHandler } from '../../src/audit/audit-webhook-handler.ts'
import { webhookBatchJob } from '../../src/audit/audit-webhook.ts'
import { verifyWebhookSignature } from '../../src/audit/audit-webhook-signature.ts'
import type { AuditEvent } from '../../src/audit/audit-event.ts'
import { JobCipher } from '../../src/delivery/job-cipher.ts'
import type { Queued, AuditWebhookJob } from '../../src/delivery/job-kinds.ts'
import { startFakeHttpServer } from '../helpers/fake-http-server.ts'

const SECRET = 'a-webhook-secret-of-at-least-32-characters'
const cipher = new JobCipher([randomBytes(32)])
const event: AuditEvent = {
  id: 'a'.repeat(24), type: 'sign_in_succeeded', userId: 'u1', identifier: 'j***@example.org', ip: '203.0.113.9', userAgent: 'ua/1', requestId: 'r1', at: new Date('2026-12-04T10:00:00Z'), amr: ['otp'], reason: null, actor: null
}
const anonymous = [{ type: 'sign_in_failed' as const, reason: 'invalid_code', count: 3, firstAt: '2026-12-04T10:00:00.000Z', lastAt: '2026-12-04T10:00:01.000Z' }]
const queued = (job: AuditWebhookJob): Queued<AuditWebhookJob> => ({ ...job, id: '1', attempt: 1, enqueuedAt: 0 })
const job = queued(webhookBatchJob(cipher, [event], anonymous, Date.now()))

const receiver = await startFakeHttpServer({
  newDefaultReply: () => () => ({ status: 204 }), record: (request) => request
})
t.teardown(() => receiver.close())
t.beforeEach(() => receiver.reset())
const config = { AUDIT_WEBHOOK_URL: `${receiver.url}/hook`, AUDIT_WEBHOOK_SECRET: SECRET, AUDIT_WEBHOOK_TIMEOUT_MS: 200 }
const handler = createAuditWebhookHandler(config, { cipher })

t.test('posts the batch as it was sealed, signed with the time of the try, with the batch id', async (t) => {
  t.notOk(job.sealed.includes('203.0.113.9') || job.sealed.includes('ua/1'), 'the job holds no IP or user agent in the clear')
  t.equal(await handler(job), 'sent')
  const [request] = receiver.requests
  t.match(request, {
    method: 'POST',
    path: '/hook',
    body: { id: job.batchId, events: [{ ...event, at: '2026-12-04T10:00:00.000Z' }], anonymous },
    headers: { 'content-type': 'application/json', 'x-otpgate-batch-id': job.batchId }
  })
  const header = String(request?.headers['x-otpgate-signature'])
  const signedAt = Number(/^t=(\d+),v1=[0-9a-f]{64}$/.exec(header)?.[1])
  t.ok(Math.abs(signedAt - Date.now() / 1000) < 5, 't is the time of sending, in unix seconds')
  t.ok(verifyWebhookSignature(SECRET, header, JSON.stringify(request?.body), Math.floor(Date.now() / 1000)))
})

t.test('5xx, 429 and no answer within AUDIT_WEBHOOK_TIMEOUT_MS are transient; another status is rejected', async (t) => {
  receiver.queue({ status: 503 }, { status: 429 }, { status: 400 }, { status: 204, delayMs: 1000 })
  await t.rejects(handler(job), { kind: 'transient', message: 'audit webhook: HTTP 503', providerStatus: '503' })
  await t.rejects(handler(job), { kind: 'transient', message: 'audit webhook: HTTP 429' })
  await t.rejects(handler(job), { kind: 'rejected', message: 'audit webhook: HTTP 400' })
  const began = Date.now()
  await t.rejects(handler(job), { kind: 'transient', message: 'audit webhook: no answer' }, 'past AUDIT_WEBHOOK_TIMEOUT_MS')
  t.ok(Date.now() - began < 900, 'given up at the timeout, not when the receiver answered')
})

t.test('a batch past its expiry is dropped unsent; one whose seal does not open is rejected', async (t) => {
  const late = createAuditWebhookHandler(config, { cipher, now: () => job.expiresAt })
  t.equal(await late(job), 'dropped')
  await t.rejects(handler({ ...job, expiresAt: job.expiresAt + 1 }), { kind: 'rejected', message: /sealed batch does not open/ }, 'the seal is bound to the expiry')
  const otherKey = createAuditWebhookHandler(config, { cipher: new JobCipher([randomBytes(32)]) })
  await t.rejects(otherKey(job), { kind: 'rejected', message: /sealed batch does not open/ })
  t.equal(receiver.requests.length, 0)
})

t.test('a receiver that refuses the connection is transient', async (t) => {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  const closed = createAuditWebhookHandler({ ...config, AUDIT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook` }, { cipher })
  await t.rejects(closed(job), { kind: 'transient', message: 'audit webhook: no answer' })
})

t.test('a process without AUDIT_WEBHOOK_URL rejects the job, so it is deleted', async (t) => {
  const unset = createAuditWebhookHandler(
    { ...config, AUDIT_WEBHOOK_URL: undefined, AUDIT_WEBHOOK_SECRET: undefined }, { cipher }
  )
  await t.rejects(unset(job), { kind: 'rejected', message: 'audit webhook: AUDIT_WEBHOOK_URL is not set in this process' })
  t.equal(receiver.requests.length, 0)
})
