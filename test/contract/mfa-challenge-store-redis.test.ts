import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisMfaChallengeStore } from '../../src/totp/redis-mfa-challenge-store.ts'
import { connectWithOwnPrefix, createTestCluster, createTestRedis } from '../helpers/redis.ts'
import { mfaChallengeStoreContract } from './mfa-challenge-store.ts'

for (const [name, createClient] of [['single node', createTestRedis], ['cluster', createTestCluster]] as const) {
  t.test(name, async (t) => {
    mfaChallengeStoreContract(t, async () => {
      const { client, keyPrefix, close } = connectWithOwnPrefix(createClient, 'test-mfa')
      return { store: new RedisMfaChallengeStore(client, { keyPrefix }), elapse: (ms) => sleep(ms), close }
    })
  })
}
