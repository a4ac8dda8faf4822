import t from 'tap'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { AuditWebhookBatcher, type AuditWebhookBatcherOptions } from '../../src/audit/audit-webhook-batcher.ts'
import { webhookSealingContext, WEBHOOK_BATCH_TTL_MS, type WebhookBatchBody } from '../../src/audit/audit-webhook.ts'
import type { AuditEvent, AuditEventType } from '../../src/audit/audit-event.ts'
import { JobCipher } from '../../src/delivery/job-cipher.ts'
import type { AuditWebhookJob, Job } from '../../src/delivery/job-kinds.ts'

const cipher = new JobCipher([randomBytes(32)])
const NOW = 1_800_000_000_000

let n = 0
const event = (type: AuditEventType, userId: string | null, reason: string | null = null, at = NOW): AuditEvent => ({
  id: String(++n).padStart(24, '0'), type, userId, identifier: 'j***@example.org', ip: '198.51.100.7', userAgent: 'ua', requestId: null, at: new Date(at), amr: null, reason, actor: null
})

const openBody = (job: AuditWebhookJob) =>
  JSON.parse(cipher.openText(job.sealed, webhookSealingContext(job))) as WebhookBatchBody

function recordingQueue () {
  const jobs: AuditWebhookJob[] = []
  return {
    jobs,
    bodies: () => jobs.map(openBody),
    queue: { enqueue: async (job: Job) => { jobs.push(job as AuditWebhookJob) } }
  }
}

type BatcherOptions = Partial<Pick<AuditWebhookBatcherOptions, 'maxEvents' | 'flushIntervalMs' | 'onError'>>

const batcherOf = (queue: AuditWebhookBatcherOptions['queue'], options: BatcherOptions = {}) =>
  new AuditWebhookBatcher({
    queue, cipher, maxEvents: 3, flushIntervalMs: 60_000, now: () => NOW, onError: () => {}, ...options
  })

t.test('one flush is one job per maxEvents user events; the anonymous ones ride along as counts', async (t) => {
  const recorded = recordingQueue()
  const batcher = batcherOf(recorded.queue, { maxEvents: 3 })
  const users = [1, 2, 3, 4].map((i) => event('sign_in_succeeded', `u${i}`))
  batcher.add([users[0]!, event('sign_in_failed', null, 'invalid_code', NOW - 5000), users[1]!])
  batcher.add([event('sign_in_failed', null, 'invalid_code', NOW + 5000), event('sign_in_throttled', null, 'rate_limited'), users[2]!])
  await sleep(10)
  t.equal(recorded.jobs.length, 1, 'a full batch is queued at once')
  batcher.add([users[3]!, event('sms_guard_block', null, 'range_conversion')])
  await batcher.flush()

  const bodies = recorded.bodies()
  t.same(bodies.map((body) => body.events.map((e) => e.userId)), [['u1', 'u2', 'u3'], ['u4']])
  t.same(bodies.map((body) => body.id), recorded.jobs.map((job) => job.batchId), 'the body names its batch')
  t.same(recorded.jobs.map((job) => job.events), [3, 1])
  t.same(recorded.jobs.map((job) => job.expiresAt), [NOW + WEBHOOK_BATCH_TTL_MS, NOW + WEBHOOK_BATCH_TTL_MS], 'dropped an hour after queued')
  t.same(bodies[0]!.anonymous, [
    { type: 'sign_in_failed', reason: 'invalid_code', count: 2, firstAt: new Date(NOW - 5000).toISOString(), lastAt: new Date(NOW + 5000).toISOString() },
    { type: 'sign_in_throttled', reason: 'rate_limited', count: 1, firstAt: new Date(NOW).toISOString(), lastAt: new Date(NOW).toISOString() }
  ])
  t.same(bodies[1]!.anonymous, [{ type: 'sms_guard_block', reason: 'range_conversion', count: 1, firstAt: new Date(NOW).toISOString(), lastAt: new Date(NOW).toISOString() }],
    'counts start again after each flush')
  t.notOk(JSON.stringify(bodies.map((body) => body.anonymous)).includes('198.51.100.7'), 'a count names no IP')
  t.notOk(recorded.jobs.some((job) => ['198.51.100.7', '"userId"', 'j***@example.org'].some((clear) => job.sealed.includes(clear))), 'the jobs hold the body sealed')
})

t.test('a thousand anonymous events are one job, one count', async (t) => {
  const recorded = recordingQueue()
  const batcher = batcherOf(recorded.queue)
  for (let i = 0; i < 1000; i++) batcher.add([event('sign_in_failed', null, 'invalid_code')])
  await batcher.flush()
  t.equal(recorded.jobs.length, 1)
  t.match(recorded.bodies()[0], { events: [], anonymous: [{ type: 'sign_in_failed', count: 1000 }] })
})

t.test('what is gathered is queued after the flush interval; nothing gathered, nothing queued', async (t) => {
  const recorded = recordingQueue()
  const batcher = batcherOf(recorded.queue, { flushIntervalMs: 30 })
  await batcher.flush()
  t.equal(recorded.jobs.length, 0, 'no empty batch')
  batcher.add([event('session_ended', 'u1', 'logout')])
  t.equal(recorded.jobs.length, 0, 'not at once')
  await sleep(100)
  t.equal(recorded.jobs.length, 1, 'after the interval')
  await batcher.close()
  t.equal(recorded.jobs.length, 1)
})

t.test('close queues what is left; a batch the queue refuses is reported, not thrown', async (t) => {
  const errors: unknown[] = []
  const batcher = batcherOf({ enqueue: async () => { throw new Error('redis is down') } }, { onError: (error) => errors.push(error) })
  batcher.add([event('session_ended', 'u1', 'logout')])
  await batcher.close()
  t.match(errors, [{ message: 'redis is down' }])
})
