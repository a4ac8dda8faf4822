import { setTimeout as sleep } from 'node:timers/promises'
import type { JobConsumer } from './delivery-queue.ts'
import { JOB_KINDS, JOB_QUEUES, type JobHandlers, type QueueName, type QueuedJob } from './job-kinds.ts'
import { DeliveryError } from './senders.ts'

/**
 * A job is not started the instant it is queued but after a random wait up to this: a process that serves
 * requests and sends too does its sending at no fixed time after the request that queued it, so the requests that
 * follow cannot tell from their own timing what that job was (a real code, a decoy, a notice or nothing).
 */
export const PICKUP_JITTER_MS = 200

export interface JobConsumerOptions {
  /** the longest a first attempt waits before it starts (PICKUP_JITTER_MS unless a test says) */
  pickupJitterMs?: number | undefined
  /**
   * the queue this consumer takes from: a job of a kind another queue carries is rejected (a webhook job an older
   * version left on `outbound`, say). Unset: every kind (tests of the table alone).
   */
  queue?: QueueName | undefined
}

type AnyHandler = (job: QueuedJob) => Promise<'sent' | 'dropped'>

/**
 * The queue's consumer: each job to the handler of its `kind`, after the pick-up jitter on its first attempt.
 * Throws at once, so the process does not start, when a kind has no handler; a job of a kind this process does not
 * know (a newer version queued it), or of a kind this queue does not carry, is rejected, and goes to the failed set.
 */
export function createJobConsumer (handlers: JobHandlers, options: JobConsumerOptions = {}): JobConsumer {
  const table = new Map<string, AnyHandler>()
  for (const kind of JOB_KINDS) {
    const handler = handlers[kind] as AnyHandler | undefined
    if (typeof handler !== 'function') throw new Error(`no handler for the job kind "${kind}"`)
    table.set(kind, handler)
  }
  const jitterMs = options.pickupJitterMs ?? PICKUP_JITTER_MS
  const { queue } = options
  return async (job) => {
    const handler = table.get(job.kind)
    if (handler === undefined) throw new DeliveryError('rejected', `job: no handler for the kind "${String(job.kind)}"`)
    if (queue !== undefined && JOB_QUEUES[job.kind] !== queue) {
      throw new DeliveryError('rejected', `job: the kind "${job.kind}" is not carried by the queue "${queue}"`)
    }
    if (job.attempt === 1 && jitterMs > 0) await sleep(Math.random() * jitterMs)
    return await handler(job)
  }
}
