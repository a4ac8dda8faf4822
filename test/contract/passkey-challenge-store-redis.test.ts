import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisPasskeyChallengeStore } from '../../src/passkeys/redis-passkey-challenge-store.ts'
import { connectWithOwnPrefix, createTestCluster, createTestRedis } from '../helpers/redis.ts'
import { passkeyChallengeStoreContract } from './passkey-challenge-store.ts'

for (const [name, createClient] of [['single node', createTestRedis], ['cluster', createTestCluster]] as const) {
  t.test(name, async (t) => {
    passkeyChallengeStoreContract(t, async () => {
      const { client, keyPrefix, close } = connectWithOwnPrefix(createClient, 'test-passkey-challenge')
      return { store: new RedisPasskeyChallengeStore(client, { keyPrefix }), elapse: (ms) => sleep(ms), close }
    })
  })
}
