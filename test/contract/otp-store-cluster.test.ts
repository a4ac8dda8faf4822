import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisOtpStore } from '../../src/otp/redis-otp-store.ts'
import { createTestCluster, deleteKeys, listKeys, uniqueKeyPrefix } from '../helpers/redis.ts'
import { otpStoreContract } from './otp-store.ts'

otpStoreContract(t, async () => {
  const client = createTestCluster()
  const keyPrefix = uniqueKeyPrefix('test-otp-cluster')
  return {
    store: new RedisOtpStore(client, { keyPrefix }),
    now: () => Date.now(),
    elapse: (ms) => sleep(ms),
    listKeys: () => listKeys(client, keyPrefix),
    close: async () => {
      await deleteKeys(client, keyPrefix)
      await client.quit()
    }
  }
})
