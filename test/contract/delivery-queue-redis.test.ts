import t from 'tap'
import { BullMqDeliveryQueue } from '../../src/delivery/bullmq-delivery-queue.ts'
import { connectWithOwnPrefix, createTestRedis, dumpKeys } from '../helpers/redis.ts'
import { deliveryQueueContract } from './delivery-queue.ts'
import { stalledJobTest } from './delivery-queue-stalled.ts'

deliveryQueueContract(t, async () => {
  const { client, keyPrefix, close } = connectWithOwnPrefix(createTestRedis, 'test-dq-redis')
  const opened: BullMqDeliveryQueue[] = []
  return {
    open: (options = {}) => {
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
})

stalledJobTest(t, createTestRedis)
