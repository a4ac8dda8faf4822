import t from 'tap'
import { createTestRedis } from '../helpers/redis.ts'
import { bullMqHarness } from './bullmq-harness.ts'
import { deliveryQueueContract } from './delivery-queue.ts'
import { stalledJobTest } from './delivery-queue-stalled.ts'

deliveryQueueContract(t, bullMqHarness(createTestRedis, 'test-dq-redis'))

stalledJobTest(t, createTestRedis)
