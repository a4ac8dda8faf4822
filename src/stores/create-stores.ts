import type { Cluster, Redis } from 'ioredis'
import type { Connection } from 'mongoose'
import { withDeadline } from './store-deadline.ts'
import type { OtpStore } from '../otp/otp-store.ts'
import { RedisOtpStore } from '../otp/redis-otp-store.ts'
import { MemoryOtpStore } from '../otp/memory-otp-store.ts'
import type { Outbox } from '../delivery/outbox.ts'
import { RedisOutbox } from '../delivery/redis-outbox.ts'
import { MemoryOutbox } from '../delivery/memory-outbox.ts'
import type { SmsBudgetStore } from '../delivery/sms-budget.ts'
import { RedisSmsBudget } from '../delivery/redis-sms-budget.ts'
import { MemorySmsBudget } from '../delivery/memory-sms-budget.ts'
import type { SmsFraudStore } from '../delivery/sms-fraud-store.ts'
import { RedisSmsFraudStore } from '../delivery/redis-sms-fraud-store.ts'
import { MemorySmsFraudStore } from '../delivery/memory-sms-fraud-store.ts'
import type { RevocationStore } from '../sessions/revocation-store.ts'
import { RedisRevocationStore } from '../sessions/redis-revocation-store.ts'
import { MemoryRevocationStore } from '../sessions/memory-revocation-store.ts'
import type { TotpAttemptStore } from '../totp/totp-attempt-store.ts'
import { RedisTotpAttemptStore } from '../totp/redis-totp-attempt-store.ts'
import { MemoryTotpAttemptStore } from '../totp/memory-totp-attempt-store.ts'
import type { MfaChallengeStore } from '../totp/mfa-challenge-store.ts'
import { RedisMfaChallengeStore } from '../totp/redis-mfa-challenge-store.ts'
import { MemoryMfaChallengeStore } from '../totp/memory-mfa-challenge-store.ts'
import type { UserRepository } from '../users/user-repository.ts'
import { MongoUserRepository } from '../users/mongo-user-repository.ts'
import { MemoryUserRepository } from '../users/memory-user-repository.ts'
import type { SessionRepository } from '../sessions/session-repository.ts'
import { MongoSessionRepository } from '../sessions/mongo-session-repository.ts'
import { MemorySessionRepository } from '../sessions/memory-session-repository.ts'
import type { TotpCredentialRepository } from '../totp/totp-credential-repository.ts'
import { MongoTotpCredentialRepository } from '../totp/mongo-totp-credential-repository.ts'
import { MemoryTotpCredentialRepository } from '../totp/memory-totp-credential-repository.ts'

/** The ports kept in Redis: short-lived, keyed, expiring state. */
export interface KeyedStores {
  otp: OtpStore
  outbox: Outbox
  smsBudget: SmsBudgetStore
  smsFraud: SmsFraudStore
  revocations: RevocationStore
  totpAttempts: TotpAttemptStore
  mfaChallenges: MfaChallengeStore
}

/** The ports kept in MongoDB: users, sessions and authenticator credentials. */
export interface DocumentStores {
  users: UserRepository
  sessions: SessionRepository
  totpCredentials: TotpCredentialRepository
}

export interface StoreOptions {
  /** the clock of the in-process adapters; tests inject one */
  now: () => Date
  /** before every Redis key: keeps parallel test files apart; '' in production */
  keyPrefix: string
  /** OTP_PEPPER: the Redis outbox hashes destinations into its key names with it */
  outboxKeySecret?: string | undefined
  /** STORE_TIMEOUT_MS: every MongoDB call past it fails (503), as a stalled server would otherwise hold it for 10 s */
  deadlineMs?: number | undefined
}

/** Redis when configured (REDIS_URL or REDIS_CLUSTER_NODES), this process otherwise: chosen once, here. */
export function createKeyedStores (
  redis: Redis | Cluster | null, { now, keyPrefix, outboxKeySecret }: StoreOptions
): KeyedStores {
  if (redis) {
    return {
      otp: new RedisOtpStore(redis, { keyPrefix: `${keyPrefix}otp:` }),
      outbox: new RedisOutbox(redis, { keyPrefix: `${keyPrefix}outbox:`, ...(outboxKeySecret ? { keySecret: outboxKeySecret } : {}) }),
      smsBudget: new RedisSmsBudget(redis, { keyPrefix: `${keyPrefix}sms-budget:` }),
      smsFraud: new RedisSmsFraudStore(redis, { keyPrefix: `${keyPrefix}sms-fraud:` }),
      revocations: new RedisRevocationStore(redis, { keyPrefix: `${keyPrefix}revoked:` }),
      totpAttempts: new RedisTotpAttemptStore(redis, { keyPrefix: `${keyPrefix}totp:` }),
      mfaChallenges: new RedisMfaChallengeStore(redis, { keyPrefix: `${keyPrefix}mfa:` })
    }
  }
  const clock = () => now().getTime()
  return {
    otp: new MemoryOtpStore({ now: clock }),
    outbox: new MemoryOutbox({ now: clock }),
    smsBudget: new MemorySmsBudget(clock),
    smsFraud: new MemorySmsFraudStore(),
    revocations: new MemoryRevocationStore({ now: clock }),
    totpAttempts: new MemoryTotpAttemptStore({ now: clock }),
    mfaChallenges: new MemoryMfaChallengeStore({ now: clock })
  }
}

/** MongoDB when configured (MONGODB_URL), this process otherwise: chosen once, here. */
export function createDocumentStores (
  mongo: Connection | null, { now, deadlineMs }: Pick<StoreOptions, 'now' | 'deadlineMs'>
): DocumentStores {
  if (mongo) {
    const bounded = <T extends object>(store: T, name: string): T =>
      deadlineMs === undefined ? store : withDeadline(store, deadlineMs, name)
    return {
      users: bounded(new MongoUserRepository(mongo), 'users'),
      sessions: bounded(new MongoSessionRepository(mongo), 'sessions'),
      totpCredentials: bounded(new MongoTotpCredentialRepository(mongo), 'totp-credentials')
    }
  }
  return {
    users: new MemoryUserRepository({ now: () => now().getTime() }),
    sessions: new MemorySessionRepository(),
    totpCredentials: new MemoryTotpCredentialRepository()
  }
}
