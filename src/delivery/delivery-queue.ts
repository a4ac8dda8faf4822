import type { Channel } from './delivery.ts'
import type { NoticeContent } from './notices.ts'

/**
 * One code or notice to send, as it is queued. The code and the destination travel only inside `sealed`
 * (AES-256-GCM, see job-cipher.ts); everything else is safe to store and log.
 */
export interface DeliveryJob {
  /** a code job; jobs queued before kinds existed have none */
  kind?: 'code'
  channel: Channel
  /** `JobCipher.seal` of the code and the destination, bound to challengeId, channel and expiresAt */
  sealed: string
  /** the challenge whose code this is; for a notice, a random id of its own (a notice has no challenge) */
  challengeId: string
  /**
   * When the code stops working, epoch ms. With challengeId it names one issuance of a code: a resend keeps the
   * id and renews the expiry, so a job whose expiry is not the challenge's current one holds a replaced code.
   */
  expiresAt: number
  /** BCP 47, or null for English */
  locale: string | null
  /** the challenge's purpose; for a notice, its kind */
  purpose: string
  /** set on a notice (src/delivery/notices.ts): what it says, the destination sealed as for a code, no code */
  notice?: NoticeContent
}

/** One security event to POST to AUDIT_WEBHOOK_URL (src/audit/audit-webhook.ts). */
export interface AuditWebhookJob {
  kind: 'audit-webhook'
  eventId: string
  /** the JSON the receiver gets, signed when sent */
  body: string
  /** retries stop here, epoch ms */
  expiresAt: number
}

/** Every kind of job the queue carries. */
export type QueueJob = DeliveryJob | AuditWebhookJob

interface Queued {
  id: string
  /** 1 on the first try, 2 on the first retry, and so on */
  attempt: number
  /** when enqueue accepted it, epoch ms */
  enqueuedAt: number
}

/** A code job as a consumer receives it. */
export interface QueuedDelivery extends DeliveryJob, Queued {}

export interface QueuedAuditWebhook extends AuditWebhookJob, Queued {}

export type QueuedJob = QueuedDelivery | QueuedAuditWebhook

/** A job that will not be sent, kept for inspection without its sealed payload. */
export interface FailedDelivery extends Omit<QueuedDelivery, 'sealed'> {
  /** the provider and its status, or why retrying stopped: never the code or the destination */
  reason: string
  failedAt: number
}

/**
 * Sends one job. Resolves `sent` once the provider accepted the message, or `dropped` when it must not be sent
 * (the code expired or was replaced). Rejects with a DeliveryError (src/delivery/senders.ts): `transient` is
 * retried, `invalid_recipient` and `rejected` are not; anything else counts as `rejected`.
 */
export type DeliveryConsumer = (job: QueuedJob) => Promise<'sent' | 'dropped'>

/**
 * Where codes wait to be sent, so a request does not wait on SendGrid or Vonage.
 *
 * Jobs are codes to send, or audit events for the webhook (`kind`); the consumer tells them apart.
 * - `enqueue`: resolves once the job is durably queued (in Redis: written; in memory: held by this process),
 *   rejects when it could not be, and then nothing was queued. Enqueueing works whether or not this instance
 *   consumes.
 * - `start`: this instance takes jobs, up to its concurrency at once, oldest first, and hands them to the
 *   consumer. A job is given to one consumer at a time; `sent` and `dropped` remove it. A transient failure is
 *   retried after an exponential backoff with jitter (at least the provider's Retry-After), but never past the
 *   job's expiry nor beyond the retry policy's attempts; a permanent failure, or giving up, moves the job to the
 *   failed set with the reason and without its sealed payload. Delivery is at least once: a job whose consumer
 *   died (a killed process) is taken again by another instance once its lock lapses (Redis only; an in-process
 *   queue dies with its jobs).
 * - `close`: takes no new job, waits for the jobs in flight to settle for at most the grace period, and leaves
 *   every other job queued for another instance. Idempotent.
 * - `failed`: the failed set, newest first.
 * - `pending`: how many jobs are waiting, waiting for a retry or in flight (the queue depth; 0 when idle).
 */
export interface DeliveryQueue {
  enqueue (job: QueueJob): Promise<void>
  start (consumer: DeliveryConsumer): void
  close (): Promise<void>
  failed (): Promise<FailedDelivery[]>
  pending (): Promise<number>
}
