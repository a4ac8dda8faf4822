import t from 'tap'
import { createServer } from 'node:net'
import { createAuditWebhookHandler } from '../../src/audit/audit-webhook-handler.ts'
import { webhookSignature } from '../../src/audit/audit-webhook.ts'
import type { QueuedJob } from '../../src/delivery/job-kinds.ts'
import { startFakeHttpServer } from '../helpers/fake-http-server.ts'

const SECRET = 'a-webhook-secret-of-at-least-32-characters'
const job = {
  kind: 'audit-webhook', eventId: 'ev-1', body: '{"type":"sign_in_succeeded"}', expiresAt: Date.now() + 60_000, id: '1', attempt: 1, enqueuedAt: 0
} satisfies QueuedJob

const receiver = await startFakeHttpServer({
  newDefaultReply: () => () => ({ status: 204 }), record: (request) => request
})
t.teardown(() => receiver.close())
t.beforeEach(() => receiver.reset())
const handler = createAuditWebhookHandler({ AUDIT_WEBHOOK_URL: `${receiver.url}/hook`, AUDIT_WEBHOOK_SECRET: SECRET, DELIVERY_TIMEOUT_MS: 200 })

t.test('posts the body as it was queued, signed, with the event id', async (t) => {
  t.equal(await handler(job), 'sent')
  t.match(receiver.requests, [{
    method: 'POST',
    path: '/hook',
    body: { type: 'sign_in_succeeded' },
    headers: { 'content-type': 'application/json', 'x-signature': webhookSignature(SECRET, job.body), 'x-audit-event-id': 'ev-1' }
  }])
})

t.test('5xx, 429 and no answer are transient; another status is rejected', async (t) => {
  receiver.queue({ status: 503 }, { status: 429 }, { status: 400 }, { status: 204, delayMs: 1000 })
  await t.rejects(handler(job), { kind: 'transient', message: 'audit webhook: HTTP 503', providerStatus: '503' })
  await t.rejects(handler(job), { kind: 'transient', message: 'audit webhook: HTTP 429' })
  await t.rejects(handler(job), { kind: 'rejected', message: 'audit webhook: HTTP 400' })
  await t.rejects(handler(job), { kind: 'transient', message: 'audit webhook: no answer' }, 'past DELIVERY_TIMEOUT_MS')
})

t.test('a receiver that refuses the connection is transient', async (t) => {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  const closed = createAuditWebhookHandler({
    AUDIT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, AUDIT_WEBHOOK_SECRET: SECRET, DELIVERY_TIMEOUT_MS: 200
  })
  await t.rejects(closed(job), { kind: 'transient', message: 'audit webhook: no answer' })
})

t.test('a process without AUDIT_WEBHOOK_URL rejects the job, so it goes to the failed set', async (t) => {
  const unset = createAuditWebhookHandler({
    AUDIT_WEBHOOK_URL: undefined, AUDIT_WEBHOOK_SECRET: undefined, DELIVERY_TIMEOUT_MS: 200
  })
  await t.rejects(unset(job), { kind: 'rejected', message: 'audit webhook: AUDIT_WEBHOOK_URL is not set in this process' })
  t.equal(receiver.requests.length, 0)
})
