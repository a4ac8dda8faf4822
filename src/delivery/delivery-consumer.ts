import { setTimeout as sleep } from 'node:timers/promises'
import type { Config } from '../config.ts'
import type { OtpEngine } from '../otp/otp-engine.ts'
import type { Metrics } from '../metrics/metrics.ts'
import { createAuditWebhookSender } from '../audit/audit-webhook.ts'
import type { Delivery, DeliveryLogger } from './delivery.ts'
import type { DeliveryConsumer } from './delivery-queue.ts'
import type { JobCipher } from './job-cipher.ts'
import { createCodeDeliveryConsumer } from './code-delivery-consumer.ts'
import { byJobKind, createNoticeDeliveryConsumer } from './notice-delivery-consumer.ts'

export interface DeliveryConsumerDeps {
  cipher: JobCipher
  delivery: Delivery
  /** the OTP store's engine: a queued code is sent only while it is still the challenge's current one */
  otp: Pick<OtpEngine, 'deliveryOf'>
  logger: DeliveryLogger
  metrics: Metrics
  /** the OTP store's clock, epoch ms */
  now?: (() => number) | undefined
  /** the longest a first attempt waits before it starts (PICKUP_JITTER_MS unless a test says) */
  pickupJitterMs?: number | undefined
}

/**
 * A job is not started the instant it is queued but after a random wait up to this: a process that serves
 * requests and sends too does its sending at no fixed time after the request that queued it, so the requests that
 * follow cannot tell from their own timing what that job was (a real code, a decoy, a notice or nothing).
 */
export const PICKUP_JITTER_MS = 200

/**
 * What a process that sends (the API with DELIVERY_WORKER, or `npm run worker`) does with each queued job: codes,
 * notices, and the security events' webhook when AUDIT_WEBHOOK_URL is set. One recipe, so both send alike.
 */
export function createDeliveryConsumer (config: Config, deps: DeliveryConsumerDeps): DeliveryConsumer {
  const { cipher, delivery, otp, logger, metrics, now } = deps
  const { AUDIT_WEBHOOK_URL: url, AUDIT_WEBHOOK_SECRET: secret, DELIVERY_TIMEOUT_MS: timeoutMs } = config
  const auditWebhook = url && secret ? createAuditWebhookSender({ url, secret, timeoutMs }) : undefined
  const jitterMs = deps.pickupJitterMs ?? PICKUP_JITTER_MS
  const consumer = byJobKind({
    code: createCodeDeliveryConsumer({
      cipher,
      delivery,
      deliveryOf: (job) => otp.deliveryOf(job.challengeId, job.expiresAt),
      now,
      logger,
      auditWebhook,
      metrics
    }),
    notice: createNoticeDeliveryConsumer({ cipher, delivery, now, logger })
  })
  return async (job) => {
    if (job.attempt === 1 && jitterMs > 0) await sleep(Math.random() * jitterMs)
    return await consumer(job)
  }
}
