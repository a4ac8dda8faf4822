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

/** One security event to POST to AUDIT_WEBHOOK_URL (src/audit/audit-webhook.ts). */
export interface AuditWebhookJob {
  kind: 'audit-webhook'
  eventId: string
  /** the JSON the receiver gets, signed when sent */
  body: string
  /** retries stop here, epoch ms */
  expiresAt: number
}

/**
 * Every kind of job the outbound queue carries, by its `kind`. A new kind is added here, to JOB_KINDS, and to the
 * table of handlers (job-handlers.ts); the compiler asks for each.
 */
export interface JobKinds {
  code: CodeJob
  notice: NoticeJob
  'audit-webhook': AuditWebhookJob
}

export type JobKind = keyof JobKinds
export type Job = JobKinds[JobKind]

/** The kinds at run time, to check the table of handlers when the consumer is built. */
export const JOB_KINDS = Object.keys({
  code: true, notice: true, 'audit-webhook': true
} satisfies Record<JobKind, true>) as JobKind[]

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
      return { countedAs: job.kind, fields: { eventId: job.eventId } }
    default: {
      // a kind only a newer version knows (its job is about to be rejected); a new kind needs a case above
      const unknown: never = job
      return { countedAs: String((unknown as { kind: unknown }).kind), fields: {} }
    }
  }
}
