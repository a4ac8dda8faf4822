import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisOtpStore } from '../../src/otp/redis-otp-store.ts'
import { createTestRedis, deleteKeys, listKeys, uniqueKeyPrefix } from '../helpers/redis.ts'
import { otpStoreContract } from './otp-store.ts'

otpStoreContract(t, async () => {
  const client = createTestRedis()
  const keyPrefix = uniqueKeyPrefix('test-otp')
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
