import type { OtpEngine } from '../otp/otp-engine.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { Delivery, DeliveryLogger } from './delivery.ts'
import type { JobCipher } from './job-cipher.ts'
import type { JobHandler, JobHandlers } from './job-kinds.ts'
import { createCodeJobHandler } from './code-job-handler.ts'
import { createNoticeJobHandler } from './notice-job-handler.ts'

export interface JobHandlerDeps {
  cipher: JobCipher
  delivery: Delivery
  /** the OTP store's engine: a queued code is sent only while it is still the challenge's current one */
  otp: Pick<OtpEngine, 'deliveryOf'>
  logger: DeliveryLogger
  metrics: Metrics
  /** the OTP store's clock, epoch ms */
  now?: (() => number) | undefined
  /** src/audit/audit-webhook-handler.ts: audit owns it, and delivery does not import audit */
  auditWebhook: JobHandler<'audit-webhook'>
}

/**
 * The table of handlers: one per job kind (job-kinds.ts), the same in every process that sends (the API with
 * DELIVERY_WORKER, and `npm run worker`). Each queue's consumer uses it for the kinds that queue carries (JOB_QUEUES).
 */
export function createJobHandlers (deps: JobHandlerDeps): JobHandlers {
  const { cipher, delivery, otp, logger, metrics, now } = deps
  return {
    code: createCodeJobHandler({
      cipher, delivery, deliveryOf: (job) => otp.deliveryOf(job.challengeId, job.expiresAt), now, logger, metrics
    }),
    notice: createNoticeJobHandler({ cipher, delivery, now, logger }),
    'audit-webhook': deps.auditWebhook
  }
}
