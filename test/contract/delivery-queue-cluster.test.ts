import t from 'tap'
import { RedisConnection } from 'bullmq'
import { BullMqDeliveryQueue } from '../../src/delivery/bullmq-delivery-queue.ts'
import { connectWithOwnPrefix, createTestCluster } from '../helpers/redis.ts'
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

// BullMqDeliveryQueue's close calls a member BullMQ does not publish (bullmq is pinned to an exact version for it):
// an upgrade that drops or renames it fails here, not as closes on a Cluster that wait out their grace period
t.test('on a Cluster, close first tells the worker\'s blocking connection not to reconnect (BullMQ\'s disableBlockingClusterReconnect)', async (t) => {
  interface Connection { closing?: boolean }
  type Disable = (this: Connection) => void
  const prototype = RedisConnection.prototype as unknown as { disableBlockingClusterReconnect?: Disable }
  const original = prototype.disableBlockingClusterReconnect
  t.type(original, 'function', 'BullMQ\'s RedisConnection still has disableBlockingClusterReconnect')
  // BullMQ calls it too, as it closes a connection: only a call on a connection not yet closing is ours
  const beforeClosing: boolean[] = []
  prototype.disableBlockingClusterReconnect = function (this: Connection) {
    beforeClosing.push(this.closing !== true)
    original?.call(this)
  }
  t.teardown(() => { prototype.disableBlockingClusterReconnect = original })

  const { client, keyPrefix, close } = connectWithOwnPrefix(createTestCluster, 'test-dq-close')
  t.teardown(close)
  const queue = new BullMqDeliveryQueue({ connection: client, prefix: `${keyPrefix}{delivery}`, concurrency: 1, graceMs: 5000 })
  const taken = new Promise<void>((resolve) => queue.start(async () => { resolve(); return 'sent' }))
  await queue.enqueue({ kind: 'code', channel: 'sms', sealed: 'k.i.c.t', challengeId: 'cd34.blocking-read-0000000000', expiresAt: Date.now() + 300_000, locale: null, purpose: 'login' })
  await taken
  await queue.close()
  t.equal(beforeClosing.filter(Boolean).length, 1, 'called once by close, on the worker\'s blocking connection, before BullMQ closes it')
})
