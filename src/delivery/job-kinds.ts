import type { Channel } from './delivery.ts'
import type { NoticeContent } from './notices.ts'

/**
 * A code to send. The code and the destination travel only inside `sealed` (AES-256-GCM, see job-cipher.ts);
 * everything else is safe to store and log.
 */
export interface CodeJob {
  kind: 'code'
  channel: Channel
  /** `JobCipher.seal` of the code and the destination, bound to challengeId, channel and expiresAt */
  sealed: string
  challengeId: string
  /**
   * When the code stops working, epoch ms. With challengeId it names one issuance of a code: a resend keeps the
   * id and renews the expiry, so a job whose expiry is not the challenge's current one holds a replaced code.
   */
  expiresAt: number
  /** BCP 47, or null for English */
  locale: string | null
  /** the challenge's purpose */
  purpose: string
}

/** A notice to send (src/delivery/notices.ts): what it says, the destination sealed as for a code, no code. */
export interface NoticeJob extends Omit<CodeJob, 'kind'> {
  kind: 'notice'
  /** a random id of its own (a notice has no challenge), which the seal is bound to as a code's to its challenge */
  challengeId: string
  /** the notice's kind */
  purpose: string
  notice: NoticeContent
}

/**
 * A batch of security events to POST to AUDIT_WEBHOOK_URL (src/audit/audit-webhook.ts). The body carries IPs and user
 * agents, so it travels only inside `sealed`, as a code does; everything else is safe to store and log.
 */
export interface AuditWebhookJob {
  kind: 'audit-webhook'
  /** random; the body's `id` and the X-OtpGate-Batch-Id header, so the receiver can drop a repeat */
  batchId: string
  /** `JobCipher.sealText` of the JSON body, bound to batchId and expiresAt (webhookSealingContext) */
  sealed: string
  /** how many events the body lists in full, for the logs */
  events: number
  /** the batch is dropped, not sent, from then on, and retries stop before it, epoch ms */
  expiresAt: number
}

/**
 * Every kind of job this service queues, by its `kind`. A new kind is added here, to JOB_QUEUES, and to the table
 * of handlers (job-handlers.ts); the compiler asks for each.
 */
export interface JobKinds {
  code: CodeJob
  notice: NoticeJob
  'audit-webhook': AuditWebhookJob
}

export type JobKind = keyof JobKinds
export type Job = JobKinds[JobKind]

/** The queues: each has its own keys, its own workers and its own concurrency. */
export type QueueName = 'outbound' | 'audit-webhook'

/**
 * Which queue carries each kind. Codes and notices are what a user waits for: no other kind shares their queue, so
 * a webhook receiver that hangs never holds one back (security round 3, point 5).
 */
export const JOB_QUEUES = {
  code: 'outbound',
  notice: 'outbound',
  'audit-webhook': 'audit-webhook'
} as const satisfies Record<JobKind, QueueName>

/** The kinds at run time, to check the table of handlers when the consumer is built. */
export const JOB_KINDS = Object.keys(JOB_QUEUES) as JobKind[]

/** The kinds one queue carries. */
export const kindsOf = (queue: QueueName): JobKind[] => JOB_KINDS.filter((kind) => JOB_QUEUES[kind] === queue)

/** What a queue's enqueue does with a job of a kind another queue carries: a bug, refused before anything is stored. */
export function refuseForeignKind (queue: QueueName, job: Job): void {
  const carrier = JOB_QUEUES[job.kind] as QueueName | undefined
  if (carrier !== undefined && carrier !== queue) throw new Error(`a ${job.kind} job goes on the ${carrier} queue, not ${queue}`)
}

interface QueueFields {
  id: string
  /** 1 on the first try, 2 on the first retry, and so on */
  attempt: number
  /** when enqueue accepted it, epoch ms */
  enqueuedAt: number
}

/** A job as its handler receives it. */
export type Queued<J extends Job> = J & QueueFields
export type QueuedJob = Queued<Job>

/**
 * Sends one job of its kind. Resolves `sent` once the receiver accepted it, or `dropped` when it must not be sent
 * (expired, or a code that was replaced). Rejects with a DeliveryError (src/delivery/senders.ts): `transient` is
 * retried, `invalid_recipient` and `rejected` are not; anything else counts as `rejected`.
 */
export type JobHandler<K extends JobKind> = (job: Queued<JobKinds[K]>) => Promise<'sent' | 'dropped'>

/** One handler per kind: a table without one for every kind does not type-check, nor build (job-consumer.ts). */
export type JobHandlers = { readonly [K in JobKind]: JobHandler<K> }

/**
 * What a job's log lines name it by, and the outcomes of which jobs its running count adds up: its challenge and
 * channel, or its event. Never a sealed payload or a body.
 */
export function jobSubject (job: Job): { countedAs: string, fields: Record<string, string> } {
  switch (job.kind) {
    case 'code':
    case 'notice': {
      const { challengeId, channel, purpose } = job
      return { countedAs: channel, fields: { challengeId, channel, purpose } }
    }
    case 'audit-webhook':
      return { countedAs: job.kind, fields: { batchId: job.batchId, events: String(job.events) } }
    default: {
      // a kind only a newer version knows (its job is about to be rejected); a new kind needs a case above
      const unknown: never = job
      return { countedAs: String((unknown as { kind: unknown }).kind), fields: {} }
    }
  }
}
