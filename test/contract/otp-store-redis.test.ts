import t from 'tap'
import { RedisOtpStore } from '../../src/otp/redis-otp-store.ts'
import { connectWithOwnPrefix, createTestRedis, elapseKeys } from '../helpers/redis.ts'
import { otpStoreContract } from './otp-store.ts'

otpStoreContract(t, async () => {
  const { client, keyPrefix, listKeys, close } = connectWithOwnPrefix(createTestRedis, 'test-otp')
  // the scripts take the time from this clock, and elapse shrinks the TTLs by as much: no test sleeps
  let clock = Date.now()
  const now = () => clock
  const elapse = async (ms: number) => {
    clock += ms
    await elapseKeys(client, keyPrefix, ms)
  }
  return { store: new RedisOtpStore(client, { keyPrefix, now }), now, elapse, listKeys, close }
})
