import t from 'tap'
import { createTestCluster } from '../helpers/redis.ts'
import { otpStoreContract, redisOtpHarness } from './otp-store.ts'

otpStoreContract(t, async () => redisOtpHarness(createTestCluster, 'test-otp-cluster'))
