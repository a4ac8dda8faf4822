import type { DeliveryQueue } from '../delivery/delivery-queue.ts'
import type { JobCipher } from '../delivery/job-cipher.ts'
import type { AuditWebhookJob } from '../delivery/job-kinds.ts'
import type { AuditEvent } from './audit-event.ts'
import { webhookBatchJob, type AnonymousCount } from './audit-webhook.ts'

export interface AuditWebhookBatcherOptions {
  /** the `audit-webhook` queue, never the codes' */
  queue: Pick<DeliveryQueue, 'enqueue'>
  cipher: JobCipher
  /** user events per batch at most (AUDIT_WEBHOOK_BATCH_MAX); a full batch is queued at once */
  maxEvents: number
  /** what is gathered is queued this long after the first of it (AUDIT_WEBHOOK_FLUSH_MS) */
  flushIntervalMs: number
  /** the queue's clock, epoch ms: a batch's expiry */
  now: () => number
  /** a batch could not be queued: its events are not sent (they are in the audit store) */
  onError: (error: unknown) => void
}

/**
 * Gathers the written security events into webhook batches: one job per flush carries up to maxEvents user events
 * and the counts of the anonymous ones, so the webhook's queue grows with time, not with what an attacker sends.
 * `close` queues what is left.
 */
export class AuditWebhookBatcher {
  readonly #options: AuditWebhookBatcherOptions
  #events: AuditEvent[] = []
  readonly #anonymous = new Map<string, AnonymousCount>()
  #timer: NodeJS.Timeout | undefined
  #queueing: Promise<void> = Promise.resolve()

  constructor (options: AuditWebhookBatcherOptions) {
    this.#options = options
  }

  add (events: readonly AuditEvent[]): void {
    for (const event of events) {
      if (event.userId === null) this.#count(event)
      else this.#events.push(event)
    }
    if (this.#events.length >= this.#options.maxEvents) this.#schedule(0)
    else if (this.#events.length > 0 || this.#anonymous.size > 0) this.#schedule(this.#options.flushIntervalMs)
  }

  /** Queues everything gathered; resolves once queued (or reported to onError). */
  flush (): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const { cipher, maxEvents, now } = this.#options
    const jobs: AuditWebhookJob[] = []
    let anonymous = [...this.#anonymous.values()]
    this.#anonymous.clear()
    while (this.#events.length > 0 || anonymous.length > 0) {
      jobs.push(webhookBatchJob(cipher, this.#events.splice(0, maxEvents), anonymous, now()))
      anonymous = []
    }
    const { queue, onError } = this.#options
    this.#queueing = this.#queueing.then(async () => {
      await Promise.all(jobs.map((job) => queue.enqueue(job).catch(onError)))
    })
    return this.#queueing
  }

  close (): Promise<void> {
    return this.flush()
  }

  #count (event: AuditEvent): void {
    const key = `${event.type}\u0000${event.reason ?? ''}`
    const at = event.at.toISOString()
    const counted = this.#anonymous.get(key)
    if (counted === undefined) {
      this.#anonymous.set(key, { type: event.type, reason: event.reason, count: 1, firstAt: at, lastAt: at })
      return
    }
    counted.count++
    // batches from several writes may interleave: keep the extremes, not the order of arrival
    if (at < counted.firstAt) counted.firstAt = at
    if (at > counted.lastAt) counted.lastAt = at
  }

  #schedule (delayMs: number): void {
    if (this.#timer !== undefined && delayMs > 0) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => { this.flush().catch(() => {}) }, delayMs)
    this.#timer.unref()
  }
}
