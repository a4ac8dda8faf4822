import type { Delivery, DeliveryLogger } from './delivery.ts'
import type { JobHandler } from './job-kinds.ts'
import { openJob, type JobCipher } from './job-cipher.ts'

export interface NoticeJobHandlerOptions {
  cipher: JobCipher
  delivery: Pick<Delivery, 'deliverNotice'>
  /** epoch ms */
  now?: () => number
  logger?: DeliveryLogger | undefined
}

/**
 * The handler of `notice` jobs: drops one past its expiry, else opens the sealed destination and sends the notice
 * once through Delivery (the queue owns the retries). There is no challenge to check: a notice stands on its own.
 */
export function createNoticeJobHandler (options: NoticeJobHandlerOptions): JobHandler<'notice'> {
  const now = options.now ?? Date.now
  return async (job) => {
    if (job.expiresAt <= now()) return 'dropped'
    const { to, code: undoLink } = openJob(options.cipher, job)
    const { channel, locale, notice, attempt } = job
    const request = { channel, to, locale, notice, attempt, logger: options.logger }
    await options.delivery.deliverNotice(undoLink === '' ? request : { ...request, undoLink })
    return 'sent'
  }
}
