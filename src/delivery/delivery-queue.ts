import type { Job, QueuedJob } from './job-kinds.ts'

type WithoutSealed<J> = J extends unknown ? Omit<J, 'sealed'> : never

/** What is kept of a job that will not be sent: everything but its sealed payload (a code's or a notice's). */
export function withoutSealed<J extends object> (job: J): WithoutSealed<J> {
  const { sealed, ...kept } = job as J & { sealed?: string }
  return kept as WithoutSealed<J>
}

/** A job that will not be sent, kept for inspection without its sealed payload. */
export type FailedJob = WithoutSealed<QueuedJob> & {
  /** the receiver and its status, or why retrying stopped: never a code or a destination */
  reason: string
  failedAt: number
}

/** Takes every queued job, whatever its kind, and hands it to its kind's handler (job-consumer.ts). */
export type JobConsumer = (job: QueuedJob) => Promise<'sent' | 'dropped'>

/**
 * A queue of what this service sends to the outside, so a request does not wait on any of it: `outbound` holds codes
 * and notices to SendGrid or Vonage, `audit-webhook` security-event batches to the webhook (JOB_QUEUES, job-kinds.ts).
 * Jobs have a `kind`, and the consumer hands each to its kind's handler.
 * - `enqueue`: resolves once the job is durably queued (in Redis: written; in memory: held by this process),
 *   rejects when it could not be, and then nothing was queued. Enqueueing works whether or not this instance
 *   consumes. A job of a kind another queue carries is refused (throws): a bug.
 * - `start`: this instance takes jobs, up to its concurrency at once, oldest first, and hands them to the
 *   consumer. A job is given to one consumer at a time; `sent` and `dropped` remove it. A transient failure is
 *   retried after an exponential backoff with jitter (at least the receiver's Retry-After), but never past the
 *   job's expiry nor beyond the retry policy's attempts; a permanent failure, or giving up, moves the job to the
 *   failed set with the reason and without its sealed payload (or deletes it, for a queue that keeps no
 *   failures). Delivery is at least once: a job whose consumer died (a killed process) is taken again by another
 *   instance once its lock lapses (Redis only; an in-process queue dies with its jobs).
 * - `close`: takes no new job, waits for the jobs in flight to settle for at most the grace period, and leaves
 *   every other job queued for another instance. Idempotent.
 * - `failed`: the failed set, newest first.
 * - `pending`: how many jobs are waiting, waiting for a retry or in flight (the queue depth; 0 when idle).
 */
export interface DeliveryQueue {
  enqueue (job: Job): Promise<void>
  start (consumer: JobConsumer): void
  close (): Promise<void>
  failed (): Promise<FailedJob[]>
  pending (): Promise<number>
}
