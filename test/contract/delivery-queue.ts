import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TAP, Test } from 'tap'
import type { DeliverCodeRequest, DeliveryLogger } from '../../src/delivery/delivery.ts'
import type { DeliveryQueue, FailedJob } from '../../src/delivery/delivery-queue.ts'
import type { Job, QueuedJob, QueueName } from '../../src/delivery/job-kinds.ts'
import { createCodeJobHandler } from '../../src/delivery/code-job-handler.ts'
import { createJobConsumer } from '../../src/delivery/job-consumer.ts'
import { JobCipher, sealingContext } from '../../src/delivery/job-cipher.ts'
import type { RetryPolicy } from '../../src/delivery/retry-policy.ts'
import { DeliveryError } from '../../src/delivery/senders.ts'
import { eventually } from '../helpers/eventually.ts'

export interface QueueInstanceOptions {
  /** instances of one name share their jobs; two names never do */
  name?: QueueName
  keepsFailed?: boolean
  concurrency?: number
  graceMs?: number
  retryPolicy?: RetryPolicy
  logger?: DeliveryLogger
}

/** One adapter under test. Instances opened from one harness share their jobs, as processes share Redis. */
export interface DeliveryQueueHarness {
  open (options?: QueueInstanceOptions): DeliveryQueue
  /** every byte the adapter holds (key names and values), to search for secrets */
  dumpStorage (): Promise<string>
  close (): Promise<void>
}

const FAST_RETRIES: RetryPolicy = { baseMs: 2, maxMs: 10, maxAttempts: 10 }
const cipher = new JobCipher([randomBytes(32)])

interface Secret { code: string, to: string }

/** A sealed job for a fresh code and address, expiring in five minutes unless told. */
function newJob (expiresInMs = 300_000) {
  const secret: Secret = { code: String(100000 + randomBytes(3).readUIntBE(0, 3) % 900000), to: `dq-${randomBytes(5).toString('hex')}@example.org` }
  const base = { kind: 'code' as const, channel: 'email' as const, challengeId: `ab12.${randomBytes(16).toString('base64url')}`, expiresAt: Date.now() + expiresInMs, locale: 'fr', purpose: 'login' }
  return { job: { ...base, sealed: cipher.seal(secret, sealingContext(base)) }, secret }
}

/** A webhook batch with a sealed body, as src/audit/audit-webhook.ts makes it (the handler is not under test here). */
function newWebhookJob () {
  const batchId = randomBytes(12).toString('hex')
  const expiresAt = Date.now() + 60_000
  return { kind: 'audit-webhook' as const, batchId, sealed: cipher.sealText(`{"id":"${batchId}"}`, `audit-webhook|${batchId}|${expiresAt}`), events: 0, expiresAt }
}

const notExpected = async (job: QueuedJob): Promise<never> => { throw new Error(`no ${job.kind} job in this test`) }

/**
 * A consumer as production builds it (the code handler in the table of handlers, without the pick-up jitter) over
 * a fake Delivery: `provider` decides what each send does, and every send is recorded with what the handler opened.
 */
function recordingDelivery (provider: (request: DeliverCodeRequest, call: number) => Promise<void> = async () => {}) {
  const sends: DeliverCodeRequest[] = []
  const waiters: Array<{ count: number, resolve: () => void }> = []
  const current = new Map<string, boolean>()
  const code = createCodeJobHandler({
    cipher,
    deliveryOf: async (job) => current.get(job.challengeId) ?? true ? 'send' : 'drop',
    delivery: {
      rehearseCode: async () => { throw new Error('no decoys in this suite') },
      deliverCode: async (request) => {
        sends.push(request)
        for (const waiter of waiters.filter(({ count }) => sends.length >= count)) waiter.resolve()
        await provider(request, sends.length)
        return { provider: 'sendgrid', messageId: null }
      }
    }
  })
  const consumer = createJobConsumer({ code, notice: notExpected, 'audit-webhook': notExpected }, { pickupJitterMs: 0 })
  return {
    consumer,
    sends,
    current,
    /** resolves once `count` sends have started */
    started: (count: number) => new Promise<void>((resolve) => {
      if (sends.length >= count) resolve()
      else waiters.push({ count, resolve })
    })
  }
}

function gate () {
  let open = () => {}
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { open, opened }
}

function collectingLogger () {
  const lines: Array<{ obj: Record<string, unknown>, msg: string }> = []
  const logger: DeliveryLogger = {
    info: (obj, msg) => { lines.push({ obj: obj as Record<string, unknown>, msg }) },
    warn: (obj, msg) => { lines.push({ obj: obj as Record<string, unknown>, msg }) }
  }
  return { lines, logger }
}

const challengeOf = (failed: FailedJob) => failed.kind === 'audit-webhook' ? undefined : failed.challengeId

/** The DeliveryQueue contract of src/delivery/delivery-queue.ts, run against every adapter. */
export function deliveryQueueContract (t: TAP, createHarness: () => Promise<DeliveryQueueHarness>): void {
  let harness: DeliveryQueueHarness
  t.beforeEach(async () => { harness = await createHarness() })
  t.afterEach(async () => { await harness.close() })

  const assertNothingInClear = async (t: Test, secrets: Secret[], when: string) => {
    const stored = await harness.dumpStorage()
    for (const { code, to } of secrets) {
      t.notOk(stored.includes(code), `no code in the clear ${when}`)
      t.notOk(stored.includes(to) || stored.includes(to.split('@')[0]!), `no destination in the clear ${when}`)
    }
  }

  t.test('a job is delivered once, with what was sealed, and removed; the log line has the outcome and the job age', async (t) => {
    const { lines, logger } = collectingLogger()
    const queue = harness.open({ logger })
    const { job, secret } = newJob()
    await queue.enqueue(job)
    await assertNothingInClear(t, [secret], 'while queued')
    const delivery = recordingDelivery(async () => { await assertNothingInClear(t, [secret], 'while sending') })
    queue.start(delivery.consumer)
    await delivery.started(1)
    await queue.close()
    t.equal(delivery.sends.length, 1)
    t.match(delivery.sends[0], { channel: 'email', to: secret.to, code: secret.code, locale: 'fr', purpose: 'login', attempt: 1 })
    t.ok((delivery.sends[0]?.expiresInSeconds ?? 0) > 290, 'the time the code has left')
    t.notOk((await harness.dumpStorage()).includes(job.challengeId), 'the job is gone once delivered')
    t.same(await queue.failed(), [])
    const sent = lines.find((line) => line.obj.outcome === 'sent')
    t.match(sent?.obj, { challengeId: job.challengeId, channel: 'email', attempt: 1, total: 1 })
    t.type(sent?.obj.ageMs, 'number')
    t.notOk(JSON.stringify(lines).includes(secret.code) || JSON.stringify(lines).includes(secret.to), 'no code or destination in the log')
  })

  t.test('pending counts the jobs waiting and in flight, down to 0 once delivered', async (t) => {
    const queue = harness.open()
    t.equal(await queue.pending(), 0, 'an empty queue')
    await queue.enqueue(newJob().job)
    await queue.enqueue(newJob().job)
    t.equal(await queue.pending(), 2, 'two waiting')
    const release = gate()
    const delivery = recordingDelivery(async () => { await release.opened })
    queue.start(delivery.consumer)
    await delivery.started(2)
    t.equal(await queue.pending(), 2, 'two in flight')
    release.open()
    await queue.close()
    t.equal(await queue.pending(), 0, 'none once sent')
  })

  t.test('a transient failure is retried: three failures then success deliver once', async (t) => {
    const queue = harness.open({ retryPolicy: FAST_RETRIES })
    const { job, secret } = newJob()
    const delivery = recordingDelivery(async (_request, call) => {
      await assertNothingInClear(t, [secret], `during attempt ${call}`)
      if (call <= 3) throw new DeliveryError('transient', 'sendgrid: HTTP 503', { providerStatus: '503' })
    })
    queue.start(delivery.consumer)
    await queue.enqueue(job)
    await delivery.started(4)
    await queue.close()
    t.equal(delivery.sends.length, 4, 'three failed tries and one that went through')
    t.same(await queue.failed(), [])
    await assertNothingInClear(t, [secret], 'after delivery')
  })

  t.test('a permanent failure goes to the failed set with the reason, and no code is left', async (t) => {
    const { lines, logger } = collectingLogger()
    const queue = harness.open({ retryPolicy: FAST_RETRIES, logger })
    const { job, secret } = newJob()
    const delivery = recordingDelivery(async () => { throw new DeliveryError('invalid_recipient', 'sendgrid: HTTP 400, invalid recipient', { providerStatus: '400' }) })
    queue.start(delivery.consumer)
    await queue.enqueue(job)
    await delivery.started(1)
    await queue.close()
    t.equal(delivery.sends.length, 1, 'not retried')
    const failed = await queue.failed()
    t.equal(failed.length, 1)
    t.match(failed[0], { challengeId: job.challengeId, channel: 'email', purpose: 'login', expiresAt: job.expiresAt, reason: 'sendgrid: HTTP 400, invalid recipient' })
    t.notOk('sealed' in (failed[0] ?? {}), 'the failed job has no sealed payload')
    t.notOk((await harness.dumpStorage()).includes(job.sealed), 'not even sealed in storage')
    await assertNothingInClear(t, [secret], 'after the failure')
    t.match(lines.find((line) => line.obj.outcome === 'failed')?.obj, { challengeId: job.challengeId, reason: 'sendgrid: HTTP 400, invalid recipient' })
  })

  t.test('a rejection by the provider is permanent too; an unexpected error keeps only its name', async (t) => {
    const queue = harness.open({ retryPolicy: FAST_RETRIES })
    const rejected = newJob()
    const buggy = newJob()
    const delivery = recordingDelivery(async (request) => {
      if (request.to === rejected.secret.to) throw new DeliveryError('rejected', 'sendgrid: HTTP 401', { providerStatus: '401' })
      throw new TypeError(`cannot send ${request.code} to ${request.to}`)
    })
    queue.start(delivery.consumer)
    await queue.enqueue(rejected.job)
    await queue.enqueue(buggy.job)
    await delivery.started(2)
    await queue.close()
    t.equal(delivery.sends.length, 2)
    const reasons = Object.fromEntries((await queue.failed()).map((failed) => [challengeOf(failed), failed.reason]))
    t.same(reasons, { [rejected.job.challengeId]: 'sendgrid: HTTP 401', [buggy.job.challengeId]: 'unexpected TypeError' })
    await assertNothingInClear(t, [rejected.secret, buggy.secret], 'after the failures')
  })

  t.test('each kind reaches its handler as it was queued, from its queue; a kind with no handler here fails at once', async (t) => {
    const queue = harness.open({ retryPolicy: FAST_RETRIES })
    const webhooks = harness.open({ name: 'audit-webhook', retryPolicy: FAST_RETRIES })
    const notice: Job = { ...newJob().job, kind: 'notice', purpose: 'login_throttled', notice: { kind: 'login_throttled', minutes: 15 } }
    const webhook = newWebhookJob()
    // queued by a newer version, say
    const unknown = { ...newJob().job, kind: 'passkey-notice' } as unknown as Job
    const jobs = [newJob().job, notice, webhook]
    const handled: QueuedJob[] = []
    const record = async (job: QueuedJob) => { handled.push(job); return 'sent' as const }
    const consumer = createJobConsumer({ code: record, notice: record, 'audit-webhook': record }, { pickupJitterMs: 0 })
    queue.start(consumer)
    webhooks.start(consumer)
    for (const job of [jobs[0]!, notice, unknown]) await queue.enqueue(job)
    await webhooks.enqueue(webhook)
    t.ok(await eventually(async () => await queue.pending() === 0 && await webhooks.pending() === 0, 10_000), 'every job settled')
    await Promise.all([queue.close(), webhooks.close()])
    t.same(handled.map((job) => job.kind).sort(), ['audit-webhook', 'code', 'notice'])
    for (const job of jobs) {
      t.match(handled.find((queued) => queued.kind === job.kind), { ...job, attempt: 1 }, job.kind)
    }
    t.match(await queue.failed(), [{ kind: 'passkey-notice', attempt: 1, reason: 'job: no handler for the kind "passkey-notice"' }])
  })

  t.test('two queues share no job, and each refuses the kinds the other carries', async (t) => {
    const outbound = harness.open()
    const webhooks = harness.open({ name: 'audit-webhook', concurrency: 1 })
    const { job } = newJob()
    const webhook = newWebhookJob()
    await t.rejects(outbound.enqueue(webhook), { message: 'a audit-webhook job goes on the audit-webhook queue, not outbound' })
    await t.rejects(webhooks.enqueue(job), { message: 'a code job goes on the outbound queue, not audit-webhook' })
    t.equal(await outbound.pending() + await webhooks.pending(), 0, 'nothing was queued')
    await webhooks.enqueue(webhook)
    await outbound.enqueue(job)
    // the webhook's worker hangs: the code is sent all the same
    const never = gate()
    const hanging = async () => { await never.opened; return 'sent' as const }
    webhooks.start(createJobConsumer({ code: notExpected, notice: notExpected, 'audit-webhook': hanging }, { pickupJitterMs: 0 }))
    const delivery = recordingDelivery()
    outbound.start(delivery.consumer)
    await delivery.started(1)
    t.equal(await webhooks.pending(), 1, 'the webhook job is still in flight')
    await outbound.close()
    t.equal(await outbound.pending(), 0)
    never.open()
    await webhooks.close()
  })

  t.test('keepsFailed: false deletes a failed job at once: no failed set, nothing left in storage', async (t) => {
    const { lines, logger } = collectingLogger()
    const queue = harness.open({ name: 'audit-webhook', keepsFailed: false, retryPolicy: { ...FAST_RETRIES, maxAttempts: 2 }, logger })
    const refused = newWebhookJob()
    const givenUp = newWebhookJob()
    let tries = 0
    queue.start(createJobConsumer({
      code: notExpected,
      notice: notExpected,
      'audit-webhook': async (job) => {
        tries++
        throw new DeliveryError(job.batchId === refused.batchId ? 'rejected' : 'transient', 'audit webhook: HTTP 4xx or 5xx')
      }
    }, { pickupJitterMs: 0 }))
    await queue.enqueue(refused)
    await queue.enqueue(givenUp)
    t.ok(await eventually(async () => await queue.pending() === 0, 10_000), 'settled')
    await queue.close()
    t.equal(tries, 3, 'the refused batch once, the other twice')
    t.same(await queue.failed(), [])
    const stored = await harness.dumpStorage()
    for (const job of [refused, givenUp]) {
      t.notOk(stored.includes(job.batchId) || stored.includes(job.sealed), 'the job is gone')
    }
    t.same(lines.filter((line) => line.obj.outcome === 'failed').map((line) => line.obj.batchId).sort(), [refused.batchId, givenUp.batchId].sort(),
      'each failure is logged')
  })

  t.test('retries stop at the policy\'s attempts', async (t) => {
    const queue = harness.open({ retryPolicy: { ...FAST_RETRIES, maxAttempts: 3 } })
    const { job, secret } = newJob()
    const delivery = recordingDelivery(async () => { throw new DeliveryError('transient', 'sendgrid: timeout') })
    queue.start(delivery.consumer)
    await queue.enqueue(job)
    await delivery.started(3)
    await queue.close()
    t.equal(delivery.sends.length, 3)
    t.match(await queue.failed(), [{ challengeId: job.challengeId, reason: 'sendgrid: timeout; gave up after 3 attempts' }])
    await assertNothingInClear(t, [secret], 'after giving up')
  })

  t.test('no retry is scheduled past the code\'s expiry, whatever Retry-After asks', async (t) => {
    const queue = harness.open({ retryPolicy: FAST_RETRIES })
    const { job } = newJob(60_000)
    const delivery = recordingDelivery(async () => { throw new DeliveryError('transient', 'sendgrid: HTTP 429', { retryAfterMs: 120_000 }) })
    queue.start(delivery.consumer)
    await queue.enqueue(job)
    await delivery.started(1)
    await queue.close()
    t.equal(delivery.sends.length, 1)
    t.match(await queue.failed(), [{ challengeId: job.challengeId, reason: 'sendgrid: HTTP 429; the code expires before the next try' }])
  })

  t.test('an expired or replaced code is dropped, not sent, and not kept', async (t) => {
    const { lines, logger } = collectingLogger()
    const queue = harness.open({ logger })
    const expired = newJob(-1)
    const replaced = newJob()
    const fresh = newJob()
    const delivery = recordingDelivery()
    delivery.current.set(replaced.job.challengeId, false)
    for (const { job } of [expired, replaced, fresh]) await queue.enqueue(job)
    queue.start(delivery.consumer)
    await delivery.started(1)
    await queue.close()
    t.same(delivery.sends.map((send) => send.to), [fresh.secret.to], 'only the current code is sent')
    t.same((lines.filter((line) => line.obj.outcome === 'dropped')).map((line) => line.obj.challengeId).sort(), [expired.job.challengeId, replaced.job.challengeId].sort())
    t.same(await queue.failed(), [])
    const stored = await harness.dumpStorage()
    t.notOk(stored.includes(expired.job.challengeId) || stored.includes(replaced.job.challengeId), 'dropped jobs are removed')
  })

  t.test('close finishes the jobs in flight and leaves the rest to another instance, which sends each once', async (t) => {
    const first = harness.open({ concurrency: 2, graceMs: 30_000 })
    const jobs = Array.from({ length: 5 }, () => newJob())
    for (const { job } of jobs) await first.enqueue(job)
    const release = gate()
    const firstDelivery = recordingDelivery(() => release.opened)
    first.start(firstDelivery.consumer)
    await firstDelivery.started(2)
    const closed = first.close()
    release.open()
    await closed
    t.equal(firstDelivery.sends.length, 2, 'the two in flight were finished, nothing more was taken')
    await assertNothingInClear(t, jobs.map(({ secret }) => secret), 'while the rest wait')

    const second = harness.open({ concurrency: 2 })
    const secondDelivery = recordingDelivery()
    second.start(secondDelivery.consumer)
    await secondDelivery.started(3)
    await second.close()
    const delivered = [...firstDelivery.sends, ...secondDelivery.sends].map((send) => send.to).sort()
    t.same(delivered, jobs.map(({ secret }) => secret.to).sort(), 'every job sent exactly once')
  })

  t.test('close stops waiting for a job that outlives the grace period', async (t) => {
    const queue = harness.open({ graceMs: 50 })
    const { job } = newJob()
    const never = gate()
    const delivery = recordingDelivery(() => never.opened)
    queue.start(delivery.consumer)
    await queue.enqueue(job)
    await delivery.started(1)
    const closed = await Promise.race([queue.close().then(() => 'closed'), sleep(5000, 'still waiting', { ref: false })])
    t.equal(closed, 'closed', 'closed while the send still hangs')
    never.open()
  })

  t.test('close is idempotent, and an instance that never started closes too', async (t) => {
    const idle = harness.open()
    await idle.close()
    const queue = harness.open()
    queue.start(recordingDelivery().consumer)
    await Promise.all([queue.close(), queue.close()])
    t.throws(() => queue.start(recordingDelivery().consumer), /closed/)
  })
}
