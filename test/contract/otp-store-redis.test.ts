import t from 'tap'
import { createTestRedis } from '../helpers/redis.ts'
import { otpStoreContract, redisOtpHarness } from './otp-store.ts'

otpStoreContract(t, async () => redisOtpHarness(createTestRedis, 'test-otp'))
