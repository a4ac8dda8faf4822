import type { Config } from '../config.ts'
import type { JobCipher } from '../delivery/job-cipher.ts'
import type { JobHandler } from '../delivery/job-kinds.ts'
import { DeliveryError } from '../delivery/senders.ts'
import { webhookSealingContext } from './audit-webhook.ts'
import { webhookSignature } from './audit-webhook-signature.ts'

type WebhookConfig = Pick<Config, 'AUDIT_WEBHOOK_URL' | 'AUDIT_WEBHOOK_SECRET' | 'AUDIT_WEBHOOK_TIMEOUT_MS'>

export interface AuditWebhookHandlerDeps {
  /** the key the batches were sealed with (the API's and the worker's, as for codes) */
  cipher: JobCipher
  /** the queue's clock, epoch ms, for the batch's expiry; the signature has the wall clock, as its receiver does */
  now?: (() => number) | undefined
}

/**
 * The handler of `audit-webhook` jobs: a POST of the batch's JSON to AUDIT_WEBHOOK_URL, signed at the time of this
 * try (X-OtpGate-Signature, t=…,v1=…), with X-OtpGate-Batch-Id so the receiver can drop a repeat (delivery is at
 * least once). 2xx is sent; 5xx, 429, no answer within AUDIT_WEBHOOK_TIMEOUT_MS and network errors are transient
 * (retried with the webhook queue's backoff); another status is rejected. A batch past its expiry is dropped unsent.
 * In a process without AUDIT_WEBHOOK_URL every batch is rejected (and deleted): it was queued by one that has it.
 */
export function createAuditWebhookHandler (config: WebhookConfig, deps: AuditWebhookHandlerDeps): JobHandler<'audit-webhook'> {
  const { AUDIT_WEBHOOK_URL: url, AUDIT_WEBHOOK_SECRET: secret, AUDIT_WEBHOOK_TIMEOUT_MS: timeoutMs } = config
  const now = deps.now ?? Date.now
  if (!url || !secret) {
    return async () => { throw new DeliveryError('rejected', 'audit webhook: AUDIT_WEBHOOK_URL is not set in this process') }
  }
  return async (job) => {
    if (now() >= job.expiresAt) return 'dropped'
    let body: string
    try {
      body = deps.cipher.openText(job.sealed, webhookSealingContext(job))
    } catch {
      throw new DeliveryError('rejected', 'audit webhook: the sealed batch does not open (DELIVERY_JOB_KEY or OTP_PEPPER differs)')
    }
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-otpgate-signature': webhookSignature(secret, body, Math.floor(Date.now() / 1000)),
          'x-otpgate-batch-id': job.batchId
        },
        body,
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
