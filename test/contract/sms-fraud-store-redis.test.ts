import t from 'tap'
import { RedisSmsFraudStore } from '../../src/delivery/redis-sms-fraud-store.ts'
import { connectWithOwnPrefix, createTestCluster, createTestRedis, listKeys } from '../helpers/redis.ts'
import { smsFraudStoreContract } from './sms-fraud-store.ts'

for (const [label, connect] of [['redis', createTestRedis], ['cluster', createTestCluster]] as const) {
  t.test(label, async (t) => {
    smsFraudStoreContract(t, async () => {
      const { client, keyPrefix, close } = connectWithOwnPrefix(connect, 'test-sms-fraud')
      return { store: new RedisSmsFraudStore(client, { keyPrefix }), close }
    })
  })
}

t.test('keys name a country and a range, never a whole number, under the country\'s hash tag, and lapse', async (t) => {
  const { client, keyPrefix, close } = connectWithOwnPrefix(createTestRedis, 'test-sms-fraud')
  t.teardown(close)
  const store = new RedisSmsFraudStore(client, { keyPrefix })
  const day = 86_400_000
  const window = { windowMs: 3_600_000, minSends: 1, minConversion: 0.2, blockMs: 600_000 }
  const policy = { ...window, countryAlertRanges: 3, historyMs: 30 * day, historyMinVerified: 1 }
  await store.admit('US', '+1201555', policy, Date.now(), 'network-key')
  await store.admit('US', '+1201555', policy, Date.now())
  await store.count('US', '+1201666', 'verified', policy, Date.now())
  const keys = (await listKeys(client, keyPrefix)).sort((a, b) => a.key.localeCompare(b.key))
  t.same(keys.map(({ key }) => key.slice(keyPrefix.length)), [
    '{US}:blocked-ranges', '{US}:country', '{US}:history:+1201666', '{US}:networks', '{US}:range:+1201555', '{US}:range:+1201666'
  ])
  for (const { key, pttl } of keys) {
    const most = key.includes(':history:') ? 31 * day : 4_200_000
    t.ok(pttl > 0 && pttl <= most, `${key} lapses (${pttl} ms)`)
  }
})
