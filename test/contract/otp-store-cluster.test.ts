import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisOtpStore } from '../../src/otp/redis-otp-store.ts'
import { connectWithOwnPrefix, createTestCluster } from '../helpers/redis.ts'
import { otpStoreContract } from './otp-store.ts'

otpStoreContract(t, async () => {
  const { client, keyPrefix, listKeys, close } = connectWithOwnPrefix(createTestCluster, 'test-otp-cluster')
  return { store: new RedisOtpStore(client, { keyPrefix }), now: () => Date.now(), elapse: (ms) => sleep(ms), listKeys, close }
})
