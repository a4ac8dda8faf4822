import t from 'tap'
import { RedisTotpAttemptStore } from '../../src/totp/redis-totp-attempt-store.ts'
import { connectWithOwnPrefix, createTestCluster, createTestRedis, elapseKeys } from '../helpers/redis.ts'
import { totpAttemptStoreContract } from './totp-attempt-store.ts'

for (const [name, createClient] of [['single node', createTestRedis], ['cluster', createTestCluster]] as const) {
  t.test(name, async (t) => {
    totpAttemptStoreContract(t, async () => {
      const { client, keyPrefix, listKeys, close } = connectWithOwnPrefix(createClient, 'test-totp')
      // the scripts take the harness's clock (the failure log keeps times) and shrinking the TTLs by as much is time
      // passing, without a sleep
      let clock = Date.now()
      return {
        store: new RedisTotpAttemptStore(client, { keyPrefix, now: () => clock }),
        elapse: async (ms) => {
          clock += ms
          await elapseKeys(client, keyPrefix, ms)
        },
        listKeys,
        close
      }
    })
  })
}
