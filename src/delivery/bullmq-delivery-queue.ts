import { randomUUID } from 'node:crypto'
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq'
import { Cluster, type Redis } from 'ioredis'
import type { DeliveryLogger } from './delivery.ts'
import { withoutSealed, type DeliveryQueue, type FailedJob, type JobConsumer } from './delivery-queue.ts'
import { refuseForeignKind, type Job as QueueJob, type QueuedJob, type QueueName } from './job-kinds.ts'
import { DeliveryAttempts } from './delivery-attempt.ts'
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.ts'
import { RepeatedErrorLog } from '../telemetry/repeated-error-log.ts'
import { NO_REPLICA_ACK, type ReplicaAck } from '../stores/replica-ack.ts'

/**
 * The queue of codes and notices (not only codes, as its first name said); its keys are `{delivery}:outbound:…`.
 * Webhook batches have a queue of their own, `{delivery}:audit-webhook:…` (job-kinds.ts, JOB_QUEUES).
 */
export const DELIVERY_QUEUE_NAME = 'outbound'

/** What a job holds in Redis: the job, less its sealed payload once it failed (failed() drops that field anyway). */
type StoredJob = QueueJob & { enqueuedAt: number }

/** Carries the delay the retry policy chose to BullMQ's backoff strategy. */
class RetryLater extends Error {
  override name = 'RetryLater'
  readonly delayMs: number
  constructor (reason: string, delayMs: number) {
    super(reason)
    this.delayMs = delayMs
  }
}

export interface BullMqDeliveryQueueOptions {
  /** the app's client: enqueue fails fast with it; consumers get dedicated connections of their own */
  connection: Redis | Cluster
  /** BullMQ's key prefix; on a Cluster it must hold a hash tag (`{…}`), as a queue's keys share one slot */
  prefix: string
  /** which queue: its BullMQ name, and the kinds enqueue takes (JOB_QUEUES); `outbound` unless said */
  name?: QueueName
  concurrency: number
  /** false: a failed job is deleted at once (its failure is logged), not kept for a week; true unless said */
  keepsFailed?: boolean
  /** how long close waits for the jobs in flight */
  graceMs: number
  retryPolicy?: RetryPolicy
  now?: () => number
  logger?: DeliveryLogger | undefined
  /** a job whose worker stopped renewing this lock (a killed process) is taken by another worker after it */
  lockDurationMs?: number
  /** how often this worker looks for such jobs */
  stalledIntervalMs?: number
  /** the same Redis error is logged once in this long at most (BullMQ retries a failed read every 100 ms); 10 s */
  errorLogIntervalMs?: number
  /** REDIS_WAIT_REPLICAS: enqueue resolves once the replicas hold the job, and fails (the job removed) otherwise */
  replicaAck?: ReplicaAck
}

const NO_LOGGER: DeliveryLogger = { info: () => {}, warn: () => {} }
const FAILED_KEPT = { age: 7 * 24 * 3600, count: 1000 }

/**
 * Blocking reads wait longer than any command timeout, and a worker should ride out a Redis restart: consumers
 * get their own connection, retrying and without a command timeout, unlike the app's fail-fast one.
 */
function consumerConnection (client: Redis | Cluster, closing: () => boolean): Redis | Cluster {
  // BullMQ duplicates this connection for its reads, with these options: once the queue closes, none of them
  // keeps reconnecting (and so keeps the process alive) to a server that is gone or cut it off
  const retryStrategy = (attempt: number) => closing() ? null : Math.min(attempt * 100, 1000)
  const patient = { maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined, retryStrategy }
  if (client instanceof Cluster) {
    return client.duplicate(undefined, {
      enableOfflineQueue: true,
      clusterRetryStrategy: retryStrategy,
      redisOptions: { ...client.options.redisOptions, ...patient }
    })
  }
  return client.duplicate(patient)
}

const RUN_RETRY_DELAY_MS = 1000

/** ioredis states of a client that was connected and lost its server (not one still making its first connection) */
const LOST = new Set(['reconnecting', 'close', 'end'])

/** How long a close with Redis gone lets BullMQ drop its connections. */
const ABANDON_WAIT_MS = 500

/**
 * A close that began gracefully cannot be made forced (BullMQ hands back the first close), and until its jobs end
 * it renews their locks: a send that hangs kept that timer, and the process, alive. Not public API, hence the
 * optional calls (bullmq is pinned to an exact version; test/contract/delivery-queue-stalled.ts fails without it).
 */
function stopLockRenewal (worker: Worker<StoredJob>): void {
  (worker as unknown as { lockManager?: { close?: () => Promise<void> } }).lockManager?.close?.().catch(() => {})
}

const toQueued = (job: Job<StoredJob>): QueuedJob => ({ ...job.data, id: job.id ?? '', attempt: job.attemptsMade + 1 })

/**
 * DeliveryQueue on Redis through BullMQ: jobs survive restarts, any number of processes consume, a job whose
 * worker died is taken again once its lock lapses (lockDurationMs), retries wait in BullMQ's delayed set.
 * Delivered and dropped jobs are removed at once; failed ones keep no sealed payload and are evicted after a week,
 * or removed at once too (keepsFailed: false).
 */
export class BullMqDeliveryQueue implements DeliveryQueue {
  readonly #options: BullMqDeliveryQueueOptions
  readonly #name: QueueName
  readonly #queue: Queue<StoredJob>
  readonly #now: () => number
  readonly #logger: DeliveryLogger
  readonly #errors: RepeatedErrorLog
  #worker: Worker<StoredJob> | undefined
  #workerConnection: Redis | Cluster | undefined
  #closing: Promise<void> | undefined
  /** every job's options but its id, built once */
  readonly #jobOptions: JobsOptions

  constructor (options: BullMqDeliveryQueueOptions) {
    if (options.connection instanceof Cluster && !/\{[^}]+\}/.test(options.prefix)) {
      throw new Error(`on a Redis Cluster the delivery queue prefix needs a hash tag, e.g. {delivery}; got ${options.prefix}`)
    }
    this.#options = options
    this.#name = options.name ?? DELIVERY_QUEUE_NAME
    this.#now = options.now ?? Date.now
    this.#logger = options.logger ?? NO_LOGGER
    this.#errors = new RepeatedErrorLog(this.#logger, { intervalMs: options.errorLogIntervalMs })
    this.#jobOptions = {
      attempts: (options.retryPolicy ?? DEFAULT_RETRY_POLICY).maxAttempts,
      backoff: { type: 'delivery' },
      removeOnComplete: true,
      removeOnFail: options.keepsFailed === false ? true : FAILED_KEPT,
      stackTraceLimit: 0
    }
    this.#queue = new Queue<StoredJob>(this.#name, { connection: options.connection, prefix: options.prefix })
    this.#queue.on('error', (error) => { this.#errors.warn(error, 'delivery queue error', { err: error, queue: this.#name }) })
  }

  async enqueue (job: QueueJob): Promise<void> {
    refuseForeignKind(this.#name, job)
    const jobId = randomUUID()
    await this.#queue.add(job.kind, { ...job, enqueuedAt: this.#now() }, { ...this.#jobOptions, jobId })
    const ack = this.#options.replicaAck ?? NO_REPLICA_ACK
    try {
      // the add is answered: a marker in the queue's slot after it, then WAIT (every key of the queue is on one slot)
      await ack.confirm(`${this.#options.prefix}:${this.#name}:${jobId}`)
    } catch (error) {
      // a worker may hold the job already: then its code is withdrawn by the caller and never sent
      await this.#queue.remove(jobId).catch(() => {})
      throw error
    }
  }

  start (consumer: JobConsumer): void {
    if (this.#closing !== undefined) throw new Error('the delivery queue is closed')
    if (this.#worker !== undefined) throw new Error('the delivery queue was already started')
    const attempts = new DeliveryAttempts({
      consumer, retryPolicy: this.#options.retryPolicy ?? DEFAULT_RETRY_POLICY, now: this.#now, logger: this.#logger
    })
    this.#workerConnection = consumerConnection(this.#options.connection, () => this.#closing !== undefined)
    this.#worker = new Worker<StoredJob>(this.#name, (job) => this.#process(attempts, job), {
      connection: this.#workerConnection,
      prefix: this.#options.prefix,
      concurrency: this.#options.concurrency,
      // after a Redis error the worker waits this long before it reads again (BullMQ's default, 15 s, also holds a
      // closed process open that long)
      runRetryDelay: RUN_RETRY_DELAY_MS,
      ...(this.#options.lockDurationMs === undefined ? {} : { lockDuration: this.#options.lockDurationMs }),
      ...(this.#options.stalledIntervalMs === undefined ? {} : { stalledInterval: this.#options.stalledIntervalMs }),
      settings: { backoffStrategy: (_attemptsMade, _type, error) => error instanceof RetryLater ? error.delayMs : 0 }
    })
    // while Redis refuses writes (a replica now) BullMQ retries its read every 100 ms, each time an 'error'
    this.#worker.on('error', (error) => { this.#errors.warn(error, 'delivery worker error', { err: error, queue: this.#name }) })
  }

  close (): Promise<void> {
    this.#closing ??= this.#stop()
    return this.#closing
  }

  async pending (): Promise<number> {
    const counts = await this.#queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
    return Object.values(counts).reduce((sum, count) => sum + count, 0)
  }

  async failed (): Promise<FailedJob[]> {
    const jobs = await this.#queue.getFailed(0, FAILED_KEPT.count - 1)
    return jobs.map((job) => {
      const kept = withoutSealed(toQueued(job))
      return { ...kept, attempt: job.attemptsMade, reason: job.failedReason, failedAt: job.finishedOn ?? 0 }
    })
  }

  async #process (attempts: DeliveryAttempts, job: Job<StoredJob>): Promise<'sent' | 'dropped'> {
    const result = await attempts.run(toQueued(job))
    if (result.outcome === 'retrying') throw new RetryLater(result.reason, result.delayMs)
    if (result.outcome === 'failed') {
      // a job that will not be sent keeps no code, not even sealed
      await job.updateData(withoutSealed(job.data) as StoredJob)
      throw new UnrecoverableError(result.reason)
    }
    return result.outcome
  }

  async #stop (): Promise<void> {
    // with Redis gone there is nothing to finish nor to hand over, and a graceful close would wait for it forever
    if (LOST.has(this.#options.connection.status)) {
      await this.#abandon()
      return
    }
    const worker = this.#worker
    if (worker !== undefined) {
      let timer: NodeJS.Timeout | undefined
      const grace = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), this.#options.graceMs) })
      // on a Cluster, BullMQ reconnects an interrupted blocking read for up to 30 s, and close interrupts it
      // before it tells that connection it is closing: without this a close waits out the whole grace period.
      // Not public API, hence the optional calls; bullmq is pinned to an exact version for it, and
      // test/contract/delivery-queue-cluster.test.ts fails when an upgrade drops it.
      ;(worker as unknown as { backend?: { blockingConnection?: { disableBlockingClusterReconnect?: () => void } } })
        .backend?.blockingConnection?.disableBlockingClusterReconnect?.()
      // closing, the worker takes no new job and waits for its jobs in flight (pause would reconnect afterwards)
      const finished = await Promise.race([worker.close().then(() => true), grace])
      clearTimeout(timer)
      // past the grace, the jobs still in flight lose their lock renewal, and lapse into the stalled set, where
      // another worker takes them
      if (!finished) stopLockRenewal(worker)
      const connection = this.#workerConnection
      if (finished) {
        await connection?.quit().catch(() => connection.disconnect())
        // a blocking read cut off by a failover reconnects on its own, closed worker or not
        if (!(connection instanceof Cluster)) await this.#abandon()
      } else if (connection instanceof Cluster) {
        // the blocking read was told not to reconnect above: dropping its connection lets it end
        connection.disconnect()
      } else {
        // a worker stuck in its blocking read (a failover cut it off) would otherwise keep the process alive
        await this.#abandon()
      }
    }
    // a Redis that stopped taking writes (a replica now) could hold the close forever
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.#queue.close().catch(() => {}),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, ABANDON_WAIT_MS) })
    ])
    clearTimeout(timer)
  }

  /**
   * Drops every connection at once, the worker's duplicates included, so none keeps reconnecting. BullMQ's own
   * disconnects may wait for a server that is gone: they get a moment, not a promise to wait on forever.
   */
  async #abandon (): Promise<void> {
    this.#worker?.close(true).catch(() => {})
    const disconnects = Promise.all([this.#worker?.disconnect()].map((closing) => closing?.catch(() => {})))
    let timer: NodeJS.Timeout | undefined
    await Promise.race([disconnects, new Promise<void>((resolve) => { timer = setTimeout(resolve, ABANDON_WAIT_MS) })])
    clearTimeout(timer)
    this.#workerConnection?.disconnect()
  }
}
