import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisIdentifierUndoStore } from '../../src/users/redis-identifier-undo-store.ts'
import { connectWithOwnPrefix, createTestCluster, createTestRedis } from '../helpers/redis.ts'
import { identifierUndoStoreContract } from './identifier-undo-store.ts'

for (const [name, createClient] of [['single node', createTestRedis], ['cluster', createTestCluster]] as const) {
  t.test(name, async (t) => {
    identifierUndoStoreContract(t, async () => {
      const { client, keyPrefix, close } = connectWithOwnPrefix(createClient, 'test-identifier-undo')
      return { store: new RedisIdentifierUndoStore(client, { keyPrefix }), elapse: (ms) => sleep(ms), close }
    })
  })
}
