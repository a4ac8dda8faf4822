import type { Cluster, Redis } from 'ioredis'
import type { Config } from '../config.ts'
import type { DeliveryLogger } from './delivery.ts'
import type { DeliveryQueue } from './delivery-queue.ts'
import { BullMqDeliveryQueue } from './bullmq-delivery-queue.ts'
import { MemoryDeliveryQueue } from './memory-delivery-queue.ts'
import { DEFAULT_RETRY_POLICY } from './retry-policy.ts'

export interface DeliveryQueueDeps {
  /** null in the embedded mode */
  redis: Redis | Cluster | null
  /** tests keep parallel files apart with it; '' in production */
  keyPrefix?: string
  logger?: DeliveryLogger | undefined
  now?: () => number
}

/**
 * The delivery queue as configured: BullMQ when Redis is, in-process otherwise. `close` gets most of
 * SHUTDOWN_GRACE_MS, so connections can still close before the process's own grace runs out.
 * The `{delivery}` hash tag keeps every key of the queue on one Cluster slot, as BullMQ's scripts need.
 */
export function createDeliveryQueue (config: Config, deps: DeliveryQueueDeps): DeliveryQueue {
  const common = {
    concurrency: config.DELIVERY_CONCURRENCY,
    graceMs: Math.round(config.SHUTDOWN_GRACE_MS * 0.8),
    retryPolicy: { ...DEFAULT_RETRY_POLICY, baseMs: config.DELIVERY_RETRY_BASE_MS },
    logger: deps.logger,
    ...(deps.now ? { now: deps.now } : {})
  }
  if (deps.redis === null) return new MemoryDeliveryQueue(common)
  return new BullMqDeliveryQueue({ ...common, connection: deps.redis, prefix: `${deps.keyPrefix ?? ''}{delivery}` })
}
