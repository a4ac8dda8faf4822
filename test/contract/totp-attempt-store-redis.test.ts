import t from 'tap'
import { RedisTotpAttemptStore } from '../../src/totp/redis-totp-attempt-store.ts'
import { connectWithOwnPrefix, createTestCluster, createTestRedis, elapseKeys } from '../helpers/redis.ts'
import { totpAttemptStoreContract } from './totp-attempt-store.ts'

for (const [name, createClient] of [['single node', createTestRedis], ['cluster', createTestCluster]] as const) {
  t.test(name, async (t) => {
    totpAttemptStoreContract(t, async () => {
      const { client, keyPrefix, listKeys, close } = connectWithOwnPrefix(createClient, 'test-totp')
      // the scripts keep no times, only TTLs: shrinking them is time passing, without a sleep
      return {
        store: new RedisTotpAttemptStore(client, { keyPrefix }),
        elapse: (ms) => elapseKeys(client, keyPrefix, ms),
        listKeys,
        close
      }
    })
  })
}
