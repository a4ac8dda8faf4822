import type { Delivery, DeliveryLogger } from './delivery.ts'
import type { JobHandler, Queued, CodeJob } from './job-kinds.ts'
import { openJob, type JobCipher } from './job-cipher.ts'
import { DeliveryError } from './senders.ts'
import { isStoreUnavailable } from '../stores/store-errors.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { CodeDeliveryAction } from '../otp/otp-engine.ts'

export interface CodeJobHandlerOptions {
  cipher: JobCipher
  delivery: Pick<Delivery, 'deliverCode' | 'rehearseCode'>
  /**
   * Whether the job's challenge still stands with this code (the challenge `challengeId` exists and its expiry is
   * `expiresAt`: a resend renews it, a new start replaces the id), and whether it is a decoy's: OtpEngine.deliveryOf.
   * Injected, so delivery does not know the OTP store; a rejection counts as a transient failure.
   */
  deliveryOf: (job: Queued<CodeJob>) => Promise<CodeDeliveryAction>
  /** epoch ms */
  now?: () => number
  logger?: DeliveryLogger | undefined
  /** counts an OTP store that could not be asked */
  metrics?: Metrics | undefined
}

/**
 * The handler of `code` jobs: drops a job whose code expired or was replaced, else opens its sealed payload and
 * sends it once through Delivery (the queue owns the retries); a decoy's is opened and rehearsed (rendered, and the
 * provider's usual time waited) instead of sent.
 * A failure is the sender's DeliveryError, from which the queue tells transient from permanent.
 */
export function createCodeJobHandler (options: CodeJobHandlerOptions): JobHandler<'code'> {
  const now = options.now ?? Date.now
  return async (job) => {
    if (job.expiresAt <= now()) return 'dropped'
    let action: CodeDeliveryAction
    try {
      action = await options.deliveryOf(job)
    } catch (error) {
      options.metrics?.storeError('redis', error instanceof Error && isStoreUnavailable(error) ? 'unavailable' : 'error')
      throw new DeliveryError('transient', 'otp store: could not check the challenge')
    }
    if (action === 'drop') return 'dropped'
    const content = openJob(options.cipher, job)
    const request = {
      channel: job.channel,
      to: content.to,
      code: content.code,
      ...(content.link === undefined ? {} : { linkToken: content.link }),
      challengeId: job.challengeId,
      locale: job.locale,
      purpose: job.purpose,
      expiresInSeconds: Math.ceil((job.expiresAt - now()) / 1000),
      attempt: job.attempt,
      logger: options.logger
    }
    // a decoy's job: everything but the network call, then dropped
    if (action === 'rehearse') {
      await options.delivery.rehearseCode(request)
      return 'dropped'
    }
    await options.delivery.deliverCode(request)
    return 'sent'
  }
}
