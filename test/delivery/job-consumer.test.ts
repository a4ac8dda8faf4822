import t from 'tap'
import { createJobConsumer } from '../../src/delivery/job-consumer.ts'
import type { JobHandlers, QueuedJob } from '../../src/delivery/job-kinds.ts'

const queued = { id: '1', attempt: 1, enqueuedAt: 0, expiresAt: Date.now() + 60_000 }
const code: QueuedJob = { ...queued, kind: 'code', channel: 'email', sealed: 'k.i.c.t', challengeId: 'c1', locale: null, purpose: 'login' }
const notice: QueuedJob = { ...code, kind: 'notice', purpose: 'login_throttled', notice: { kind: 'login_throttled', minutes: 15 } }
const webhook: QueuedJob = { ...queued, kind: 'audit-webhook', batchId: 'b1', sealed: 'k.i.c.t', events: 1 }

function recordingHandlers () {
  const handled: string[] = []
  const record = async (job: QueuedJob) => { handled.push(job.kind); return 'sent' as const }
  const handlers: JobHandlers = { code: record, notice: record, 'audit-webhook': record }
  return { handled, handlers }
}

t.test('each job goes to the handler of its kind, whatever fields it has', async (t) => {
  const handled: string[] = []
  const consumer = createJobConsumer({
    code: async () => { handled.push('code'); return 'sent' },
    notice: async () => { handled.push('notice'); return 'dropped' },
    'audit-webhook': async () => { handled.push('audit-webhook'); return 'sent' }
  }, { pickupJitterMs: 0 })
  t.equal(await consumer(notice), 'dropped')
  t.equal(await consumer(code), 'sent')
  t.equal(await consumer(webhook), 'sent')
  t.same(handled, ['notice', 'code', 'audit-webhook'])
})

t.test('a table without a handler for every kind fails when the consumer is built, naming the kind', async (t) => {
  const { handlers } = recordingHandlers()
  const { notice: _missing, ...withoutNotice } = handlers
  t.throws(() => createJobConsumer(withoutNotice as unknown as JobHandlers), { message: 'no handler for the job kind "notice"' })
  t.throws(() => createJobConsumer({ ...handlers, 'audit-webhook': undefined } as unknown as JobHandlers), /"audit-webhook"/)
})

t.test('a job of a kind without a handler is rejected, permanently, and no handler runs', async (t) => {
  const { handled, handlers } = recordingHandlers()
  const consumer = createJobConsumer(handlers, { pickupJitterMs: 0 })
  for (const kind of ['passkey-notice', 'constructor', '__proto__', undefined]) {
    await t.rejects(consumer({ ...webhook, kind } as unknown as QueuedJob), { name: 'DeliveryError', kind: 'rejected', message: `job: no handler for the kind "${String(kind)}"` })
  }
  t.same(handled, [])
})

t.test('a consumer of one queue rejects the kinds another queue carries, and takes its own', async (t) => {
  const { handled, handlers } = recordingHandlers()
  const outbound = createJobConsumer(handlers, { pickupJitterMs: 0, queue: 'outbound' })
  const webhooks = createJobConsumer(handlers, { pickupJitterMs: 0, queue: 'audit-webhook' })
  // a webhook job an older version queued on the code queue, say
  await t.rejects(outbound(webhook), { name: 'DeliveryError', kind: 'rejected', message: 'job: the kind "audit-webhook" is not carried by the queue "outbound"' })
  await t.rejects(webhooks(code), { kind: 'rejected', message: 'job: the kind "code" is not carried by the queue "audit-webhook"' })
  t.same(handled, [], 'no handler ran')
  t.equal(await outbound(code), 'sent')
  t.equal(await outbound(notice), 'sent')
  t.equal(await webhooks(webhook), 'sent')
  t.same(handled, ['code', 'notice', 'audit-webhook'])
})

t.test('a first attempt starts after a random wait up to the pick-up jitter; a retry at once', async (t) => {
  const { handlers } = recordingHandlers()
  // a jitter wide enough that a loaded machine's pause cannot pass for it (a CI run stalls tens of ms at times)
  const consumer = createJobConsumer(handlers, { pickupJitterMs: 600 })
  const random = Math.random
  t.teardown(() => { Math.random = random })
  Math.random = () => 1
  let started = performance.now()
  await consumer(code)
  t.ok(performance.now() - started >= 590, 'the first attempt waited the whole jitter the draw asked for')
  started = performance.now()
  await consumer({ ...code, attempt: 2 })
  t.ok(performance.now() - started < 300, 'a retry did not wait')
})
