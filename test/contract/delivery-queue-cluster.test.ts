import t from 'tap'
import { BullMqDeliveryQueue } from '../../src/delivery/bullmq-delivery-queue.ts'
import { createTestCluster } from '../helpers/redis.ts'
import { bullMqHarness } from './bullmq-harness.ts'
import { deliveryQueueContract } from './delivery-queue.ts'
import { stalledJobTest } from './delivery-queue-stalled.ts'

deliveryQueueContract(t, bullMqHarness(createTestCluster, 'test-dq-cluster'))

stalledJobTest(t, createTestCluster, 'cluster')

t.test('on a Cluster, a prefix without a hash tag is refused', async (t) => {
  const client = createTestCluster()
  t.teardown(() => client.quit())
  t.throws(() => new BullMqDeliveryQueue({ connection: client, prefix: 'delivery', concurrency: 1, graceMs: 100 }), /needs a hash tag/)
})
