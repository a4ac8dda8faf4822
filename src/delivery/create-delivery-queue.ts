import type { Cluster, Redis } from 'ioredis'
import type { Config } from '../config.ts'
import type { DeliveryLogger } from './delivery.ts'
import type { DeliveryQueue } from './delivery-queue.ts'
import type { QueueName } from './job-kinds.ts'
import { BullMqDeliveryQueue } from './bullmq-delivery-queue.ts'
import type { ReplicaAck } from '../stores/replica-ack.ts'
import { MemoryDeliveryQueue } from './memory-delivery-queue.ts'
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.ts'

export interface DeliveryQueueDeps {
  /** null in the embedded mode */
  redis: Redis | Cluster | null
  /** tests keep parallel files apart with it; '' in production */
  keyPrefix?: string
  logger?: DeliveryLogger | undefined
  now?: () => number
  /** REDIS_WAIT_REPLICAS: a queued job reaches the replicas before enqueue resolves */
  replicaAck?: ReplicaAck
}

/** No wait between two tries of a webhook batch is longer. */
const WEBHOOK_MAX_RETRY_WAIT_MS = 300_000

interface QueueSettings { concurrency: number, retryPolicy: RetryPolicy, keepsFailed: boolean }

/**
 * What each queue is allowed. Codes and notices: DELIVERY_CONCURRENCY, quick retries, failures kept a week for
 * inspection (without their payload). Webhook batches: a small concurrency of their own, slower and bounded
 * retries, and a failure is logged and deleted at once, as its events are in the audit store anyway.
 */
function settingsOf (config: Config, name: QueueName): QueueSettings {
  if (name === 'audit-webhook') {
    return {
      concurrency: config.AUDIT_WEBHOOK_CONCURRENCY,
      retryPolicy: {
        baseMs: config.AUDIT_WEBHOOK_RETRY_BASE_MS,
        maxMs: WEBHOOK_MAX_RETRY_WAIT_MS,
        maxAttempts: config.AUDIT_WEBHOOK_MAX_ATTEMPTS
      },
      keepsFailed: false
    }
  }
  return {
    concurrency: config.DELIVERY_CONCURRENCY,
    retryPolicy: { ...DEFAULT_RETRY_POLICY, baseMs: config.DELIVERY_RETRY_BASE_MS },
    keepsFailed: true
  }
}

/**
 * One queue as configured (`outbound` unless named): BullMQ when Redis is, in-process otherwise. `close` gets most
 * of SHUTDOWN_GRACE_MS, so connections can still close before the process's own grace runs out.
 * The `{delivery}` hash tag keeps every key of a queue on one Cluster slot, as BullMQ's scripts need.
 */
export function createDeliveryQueue (config: Config, deps: DeliveryQueueDeps, name: QueueName = 'outbound'): DeliveryQueue {
  const common = {
    name,
    ...settingsOf(config, name),
    graceMs: Math.round(config.SHUTDOWN_GRACE_MS * 0.8),
    // a job left active by a worker that died, or whose completion a failover lost, is looked for as often
    lockDurationMs: config.DELIVERY_LOCK_MS,
    stalledIntervalMs: config.DELIVERY_LOCK_MS,
    logger: deps.logger,
    ...(deps.now ? { now: deps.now } : {})
  }
  if (deps.redis === null) return new MemoryDeliveryQueue(common)
  return new BullMqDeliveryQueue({
    ...common,
    connection: deps.redis,
    prefix: `${deps.keyPrefix ?? ''}{delivery}`,
    ...(deps.replicaAck ? { replicaAck: deps.replicaAck } : {})
  })
}
