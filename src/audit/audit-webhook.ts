import { createHmac } from 'node:crypto'
import type { AuditWebhookJob } from '../delivery/job-kinds.ts'
import type { AuditEvent } from './audit-event.ts'

/** How long a webhook delivery is retried before it goes to the failed set. */
export const WEBHOOK_RETRY_MS = 24 * 3_600_000

/** `sha256=<hex>`: HMAC-SHA256 of the exact body under AUDIT_WEBHOOK_SECRET, as the X-Signature header. */
export const webhookSignature = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

/** The job of one event: its JSON as the receiver gets it. */
export function webhookJob (event: AuditEvent, now: number): AuditWebhookJob {
  return { kind: 'audit-webhook', eventId: event.id, body: JSON.stringify({ ...event, at: event.at.toISOString() }), expiresAt: now + WEBHOOK_RETRY_MS }
}
