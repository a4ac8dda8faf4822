import { randomBytes } from '../random-bytes.ts'
import type { JobCipher } from '../delivery/job-cipher.ts'
import type { AuditWebhookJob } from '../delivery/job-kinds.ts'
import type { AuditEvent, AuditEventType } from './audit-event.ts'

/**
 * A batch not delivered within this long of being queued is dropped, not sent, and no retry is scheduled past it:
 * a receiver that hangs for hours leaves a bounded backlog, and no body lingers (its events stay in the audit store).
 */
export const WEBHOOK_BATCH_TTL_MS = 3_600_000

/**
 * How many events without an account (userId null: wrong codes for an unknown address, a decoy's, the SMS guard's
 * blocks) of one type and reason a batch stands for. Anyone can cause these at will, so they are counted, never
 * sent one by one, and name no address, IP or user agent.
 */
export interface AnonymousCount {
  type: AuditEventType
  reason: string | null
  count: number
  /** the first and the last of them, ISO 8601 */
  firstAt: string
  lastAt: string
}

/** The JSON a receiver gets: the batch id (X-OtpGate-Batch-Id), user events in full, anonymous ones counted. */
export interface WebhookBatchBody {
  id: string
  events: Array<Omit<AuditEvent, 'at'> & { at: string }>
  anonymous: AnonymousCount[]
}

/** The context a batch's sealed body is bound to, so a body copied onto another job does not open. */
export const webhookSealingContext = (job: Pick<AuditWebhookJob, 'batchId' | 'expiresAt'>): string =>
  `audit-webhook|${job.batchId}|${job.expiresAt}`

/** The job of one batch: its body sealed, as a code is, since it holds IPs and user agents. */
export function webhookBatchJob (
  cipher: JobCipher, events: readonly AuditEvent[], anonymous: readonly AnonymousCount[], now: number
): AuditWebhookJob {
  const batchId = randomBytes(12).toString('hex')
  const expiresAt = now + WEBHOOK_BATCH_TTL_MS
  const body: WebhookBatchBody = {
    id: batchId,
    events: events.map((event) => ({ ...event, at: event.at.toISOString() })),
    anonymous: [...anonymous]
  }
  const sealed = cipher.sealText(JSON.stringify(body), webhookSealingContext({ batchId, expiresAt }))
  return { kind: 'audit-webhook', batchId, sealed, events: events.length, expiresAt }
}
