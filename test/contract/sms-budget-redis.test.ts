import t from 'tap'
import { RedisSmsBudget } from '../../src/delivery/redis-sms-budget.ts'
import { connectWithOwnPrefix, createTestCluster, createTestRedis, elapseKeys, listKeys } from '../helpers/redis.ts'
import { smsBudgetContract } from './sms-budget.ts'

for (const [label, connect] of [['redis', createTestRedis], ['cluster', createTestCluster]] as const) {
  t.test(label, async (t) => {
    smsBudgetContract(t, async () => {
      const { client, keyPrefix, close } = connectWithOwnPrefix(connect, 'test-sms-budget')
      return {
        store: new RedisSmsBudget(client, { keyPrefix }),
        elapse: (ms) => elapseKeys(client, keyPrefix, ms),
        close
      }
    })
  })
}

t.test('one counter per country and hour, named without personal data, with its TTL', async (t) => {
  const { client, keyPrefix, close } = connectWithOwnPrefix(createTestRedis, 'test-sms-budget')
  t.teardown(close)
  const store = new RedisSmsBudget(client, { keyPrefix })
  await store.take('US', 493_000, 10, 3_900_000)
  await store.take('US', 493_000, 10, 3_900_000)
  const keys = await listKeys(client, keyPrefix)
  t.equal(keys.length, 1)
  t.equal(keys[0]?.key, `${keyPrefix}{US}:493000`)
  t.ok(keys[0]!.pttl > 3_890_000 && keys[0]!.pttl <= 3_900_000, `TTL from the first take (${keys[0]?.pttl} ms)`)
  t.equal(await client.get(`${keyPrefix}{US}:493000`), '2')
})

t.test('a Redis that does not answer rejects take', async (t) => {
  const { Redis } = await import('ioredis')
  const offline = new Redis(process.env.REDIS_URL!, { lazyConnect: true, enableOfflineQueue: false })
  t.teardown(() => offline.disconnect())
  await t.rejects(new RedisSmsBudget(offline).take('US', 1, 1, 1000))
})
