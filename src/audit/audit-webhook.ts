import { createHmac } from 'node:crypto'
import { DeliveryError } from '../delivery/senders.ts'
import type { AuditWebhookJob, QueuedAuditWebhook } from '../delivery/delivery-queue.ts'
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

export interface AuditWebhookOptions {
  url: string
  secret: string
  timeoutMs: number
}

/**
 * Sends one queued event to AUDIT_WEBHOOK_URL: a POST of the JSON with X-Signature, and X-Audit-Event-Id so the
 * receiver can drop a repeat (delivery is at least once). 2xx is sent; 5xx, 429, timeouts and network errors are
 * transient (the queue retries them with backoff); another status is rejected.
 */
export function createAuditWebhookSender (options: AuditWebhookOptions): (job: QueuedAuditWebhook) => Promise<'sent'> {
  return async (job) => {
    let response: Response
    try {
      response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature': webhookSignature(options.secret, job.body), 'x-audit-event-id': job.eventId },
        body: job.body,
        signal: AbortSignal.timeout(options.timeoutMs)
      })
      await response.body?.cancel()
    } catch {
      throw new DeliveryError('transient', 'audit webhook: no answer')
    }
    if (response.ok) return 'sent'
    const kind = response.status >= 500 || response.status === 429 ? 'transient' : 'rejected'
    throw new DeliveryError(kind, `audit webhook: HTTP ${response.status}`, { providerStatus: String(response.status) })
  }
}
