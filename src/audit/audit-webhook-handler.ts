import type { Config } from '../config.ts'
import type { JobHandler } from '../delivery/job-kinds.ts'
import { DeliveryError } from '../delivery/senders.ts'
import { webhookSignature } from './audit-webhook.ts'

type WebhookConfig = Pick<Config, 'AUDIT_WEBHOOK_URL' | 'AUDIT_WEBHOOK_SECRET' | 'DELIVERY_TIMEOUT_MS'>

/**
 * The handler of `audit-webhook` jobs: a POST of the event's JSON to AUDIT_WEBHOOK_URL with X-Signature, and
 * X-Audit-Event-Id so the receiver can drop a repeat (delivery is at least once). 2xx is sent; 5xx, 429, timeouts
 * and network errors are transient (the queue retries them with backoff); another status is rejected. In a process
 * without AUDIT_WEBHOOK_URL every such job is rejected: it was queued by one that has it.
 */
export function createAuditWebhookHandler (config: WebhookConfig): JobHandler<'audit-webhook'> {
  const { AUDIT_WEBHOOK_URL: url, AUDIT_WEBHOOK_SECRET: secret, DELIVERY_TIMEOUT_MS: timeoutMs } = config
  if (!url || !secret) {
    return async () => { throw new DeliveryError('rejected', 'audit webhook: AUDIT_WEBHOOK_URL is not set in this process') }
  }
  return async (job) => {
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature': webhookSignature(secret, job.body), 'x-audit-event-id': job.eventId },
        body: job.body,
        signal: AbortSignal.timeout(timeoutMs)
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
