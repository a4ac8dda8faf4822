import type { DeliveryLogger } from './delivery.ts'
import type { JobConsumer } from './delivery-queue.ts'
import { jobSubject, type QueuedJob } from './job-kinds.ts'
import { decideRetry, type RetryPolicy } from './retry-policy.ts'

export type AttemptResult =
  | { outcome: 'sent' | 'dropped' }
  | { outcome: 'retrying', delayMs: number, reason: string }
  | { outcome: 'failed', reason: string }

type Outcome = AttemptResult['outcome']

export interface DeliveryAttemptsOptions {
  consumer: JobConsumer
  retryPolicy: RetryPolicy
  /** epoch ms, for the expiry bound on retries and the job's age */
  now: () => number
  logger?: DeliveryLogger | undefined
}

const NO_LOGGER: DeliveryLogger = { info: () => {}, warn: () => {} }

/**
 * One try of a queued job, as every DeliveryQueue adapter runs it: the consumer's answer, or the retry decision
 * for its failure, logged as one line per outcome with the job's kind and age and the running count of that
 * outcome on that channel (or of that kind, for a job with no channel). Lines name the job and its challenge or
 * event, never the code or the destination.
 */
export class DeliveryAttempts {
  readonly #options: DeliveryAttemptsOptions
  readonly #logger: DeliveryLogger
  readonly #counts = new Map<string, Record<Outcome, number>>()

  constructor (options: DeliveryAttemptsOptions) {
    this.#options = options
    this.#logger = options.logger ?? NO_LOGGER
  }

  async run (job: QueuedJob): Promise<AttemptResult> {
    let result: AttemptResult
    try {
      result = { outcome: await this.#options.consumer(job) }
    } catch (error) {
      const decision = decideRetry(this.#options.retryPolicy, job, error, this.#options.now())
      result = decision.retry ? { outcome: 'retrying', delayMs: decision.delayMs, reason: decision.reason } : { outcome: 'failed', reason: decision.reason }
    }
    this.#log(job, result)
    return result
  }

  #log (job: QueuedJob, result: AttemptResult): void {
    const { countedAs, fields } = jobSubject(job)
    let counts = this.#counts.get(countedAs)
    if (counts === undefined) {
      counts = { sent: 0, dropped: 0, retrying: 0, failed: 0 }
      this.#counts.set(countedAs, counts)
    }
    const line = {
      jobId: job.id,
      kind: job.kind,
      ...fields,
      outcome: result.outcome,
      attempt: job.attempt,
      ageMs: this.#options.now() - job.enqueuedAt,
      total: ++counts[result.outcome],
      ...(result.outcome === 'retrying' ? { reason: result.reason, retryInMs: result.delayMs } : {}),
      ...(result.outcome === 'failed' ? { reason: result.reason } : {})
    }
    if (result.outcome === 'sent' || result.outcome === 'dropped') this.#logger.info(line, `delivery job ${result.outcome}`)
    else this.#logger.warn(line, result.outcome === 'failed' ? 'delivery job failed' : 'delivery job will be retried')
  }
}
