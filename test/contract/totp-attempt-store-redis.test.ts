import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisTotpAttemptStore } from '../../src/totp/redis-totp-attempt-store.ts'
import { connectWithOwnPrefix, createTestCluster, createTestRedis } from '../helpers/redis.ts'
import { totpAttemptStoreContract } from './totp-attempt-store.ts'

for (const [name, createClient] of [['single node', createTestRedis], ['cluster', createTestCluster]] as const) {
  t.test(name, async (t) => {
    totpAttemptStoreContract(t, async () => {
      const { client, keyPrefix, listKeys, close } = connectWithOwnPrefix(createClient, 'test-totp')
      return { store: new RedisTotpAttemptStore(client, { keyPrefix }), elapse: (ms) => sleep(ms), listKeys, close }
    })
  })
}
