import t from 'tap'
import { BullMqDeliveryQueue } from '../../src/delivery/bullmq-delivery-queue.ts'
import { connectWithOwnPrefix, createTestCluster, dumpKeys } from '../helpers/redis.ts'
import { deliveryQueueContract } from './delivery-queue.ts'
import { stalledJobTest } from './delivery-queue-stalled.ts'

// BullMQ's scripts touch several keys of a queue at once: the `{delivery}` hash tag puts them on one slot
deliveryQueueContract(t, async () => {
  const { client, keyPrefix, close } = connectWithOwnPrefix(createTestCluster, 'test-dq-cluster')
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

stalledJobTest(t, createTestCluster, 'cluster')

t.test('on a Cluster, a prefix without a hash tag is refused', async (t) => {
  const client = createTestCluster()
  t.teardown(() => client.quit())
  t.throws(() => new BullMqDeliveryQueue({ connection: client, prefix: 'delivery', concurrency: 1, graceMs: 100 }), /needs a hash tag/)
})
