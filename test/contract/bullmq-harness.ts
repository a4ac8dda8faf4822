import { BullMqDeliveryQueue } from '../../src/delivery/bullmq-delivery-queue.ts'
import { connectWithOwnPrefix, dumpKeys, type TestRedisClient } from '../helpers/redis.ts'
import type { DeliveryQueueHarness } from './delivery-queue.ts'

/** The contract's harness for BullMQ on a client of its own (single node or Cluster), under its own key prefix. */
export function bullMqHarness (createClient: () => TestRedisClient, label: string) {
  return async (): Promise<DeliveryQueueHarness> => {
    const { client, keyPrefix, close } = connectWithOwnPrefix(createClient, label)
    const opened: BullMqDeliveryQueue[] = []
    return {
      open: (options = {}) => {
        // the `{delivery}` hash tag keeps every key of the queue on one Cluster slot, as BullMQ's scripts need
        const queue = new BullMqDeliveryQueue({ connection: client, prefix: `${keyPrefix}{delivery}`, concurrency: 50, graceMs: 10_000, ...options })
        opened.push(queue)
        return queue
      },
      dumpStorage: () => dumpKeys(client, keyPrefix),
      close: async () => {
        await Promise.all(opened.map((queue) => queue.close()))
        await close()
      }
    }
  }
}
