import { randomUUID } from 'node:crypto'
import type { DeliveryLogger } from './delivery.ts'
import { withoutSealed, type DeliveryQueue, type FailedJob, type JobConsumer } from './delivery-queue.ts'
import { refuseForeignKind, type Job, type QueuedJob, type QueueName } from './job-kinds.ts'
import { DeliveryAttempts } from './delivery-attempt.ts'
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.ts'

/** `notBefore`: epoch ms before which a retry is not taken */
type WaitingJob = QueuedJob & { notBefore: number }

const MAX_FAILED = 1000

/**
 * The jobs of the in-process queue. Queue instances given the same backlog share it, as Redis is shared by
 * processes: one can close and another take over what it left.
 */
export class MemoryDeliveryBacklog {
  readonly waiting: WaitingJob[] = []
  readonly failed: FailedJob[] = []
  readonly #listeners = new Set<() => void>()

  add (job: WaitingJob): void {
    this.waiting.push(job)
    for (const listener of this.#listeners) listener()
  }

  /** The oldest job that may be taken now, removed from the backlog. */
  take (now: number): WaitingJob | undefined {
    const index = this.waiting.findIndex((job) => job.notBefore <= now)
    return index === -1 ? undefined : this.waiting.splice(index, 1)[0]
  }

  fail (job: FailedJob): void {
    this.failed.unshift(job)
    this.failed.length = Math.min(this.failed.length, MAX_FAILED)
  }

  onAdd (listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

export interface MemoryDeliveryQueueOptions {
  backlog?: MemoryDeliveryBacklog
  /** which queue: the kinds enqueue takes (JOB_QUEUES); `outbound` unless said */
  name?: QueueName
  concurrency: number
  /** false: a failed job is not kept (its failure is logged); true unless said */
  keepsFailed?: boolean
  /** how long close waits for the jobs in flight */
  graceMs: number
  retryPolicy?: RetryPolicy
  now?: () => number
  logger?: DeliveryLogger | undefined
}

/**
 * DeliveryQueue of the embedded mode: jobs live in this process (so they die with it) and are sent by it.
 * Same contract as BullMqDeliveryQueue, but for surviving a crash.
 */
export class MemoryDeliveryQueue implements DeliveryQueue {
  readonly #backlog: MemoryDeliveryBacklog
  readonly #options: MemoryDeliveryQueueOptions
  readonly #now: () => number
  readonly #inFlight = new Set<Promise<void>>()
  #attempts: DeliveryAttempts | undefined
  #stopListening: (() => void) | undefined
  #timer: NodeJS.Timeout | undefined
  #closing: Promise<void> | undefined

  constructor (options: MemoryDeliveryQueueOptions) {
    this.#options = options
    this.#backlog = options.backlog ?? new MemoryDeliveryBacklog()
    this.#now = options.now ?? Date.now
  }

  async enqueue (job: Job): Promise<void> {
    refuseForeignKind(this.#options.name ?? 'outbound', job)
    this.#backlog.add({ ...job, id: randomUUID(), attempt: 1, enqueuedAt: this.#now(), notBefore: 0 })
  }

  start (consumer: JobConsumer): void {
    if (this.#closing !== undefined) throw new Error('the delivery queue is closed')
    if (this.#attempts !== undefined) throw new Error('the delivery queue was already started')
    this.#attempts = new DeliveryAttempts({
      consumer,
      retryPolicy: this.#options.retryPolicy ?? DEFAULT_RETRY_POLICY,
      now: this.#now,
      logger: this.#options.logger
    })
    this.#stopListening = this.#backlog.onAdd(() => this.#pump())
    this.#pump()
  }

  close (): Promise<void> {
    this.#closing ??= this.#stop()
    return this.#closing
  }

  async failed (): Promise<FailedJob[]> {
    return this.#backlog.failed.map((job) => ({ ...job }))
  }

  async pending (): Promise<number> {
    return this.#backlog.waiting.length + this.#inFlight.size
  }

  async #stop (): Promise<void> {
    this.#stopListening?.()
    clearTimeout(this.#timer)
    if (this.#inFlight.size === 0) return
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.#options.graceMs) })
    await Promise.race([Promise.all(this.#inFlight), grace])
    clearTimeout(timer)
  }

  #pump (): void {
    const attempts = this.#attempts
    if (attempts === undefined || this.#closing !== undefined) return
    while (this.#inFlight.size < this.#options.concurrency) {
      const job = this.#backlog.take(Date.now())
      if (job === undefined) break
      const running: Promise<void> = this.#process(attempts, job).finally(() => {
        this.#inFlight.delete(running)
        this.#pump()
      })
      this.#inFlight.add(running)
    }
    this.#wakeForRetries()
  }

  async #process (attempts: DeliveryAttempts, job: WaitingJob): Promise<void> {
    const { notBefore, ...queued } = job
    const result = await attempts.run(queued)
    if (result.outcome === 'retrying') {
      this.#backlog.add({ ...job, attempt: job.attempt + 1, notBefore: Date.now() + result.delayMs })
    } else if (result.outcome === 'failed' && this.#options.keepsFailed !== false) {
      this.#backlog.fail({ ...withoutSealed(queued), reason: result.reason, failedAt: this.#now() })
    }
  }

  /** One timer, for the earliest retry that is not due yet. */
  #wakeForRetries (): void {
    clearTimeout(this.#timer)
    const now = Date.now()
    // jobs due now wait for a free slot, and a job that settles calls #pump
    const due = Math.min(...this.#backlog.waiting.map((job) => job.notBefore).filter((notBefore) => notBefore > now))
    if (!Number.isFinite(due)) return
    this.#timer = setTimeout(() => this.#pump(), due - now)
  }
}
