import type { Cluster, Redis } from 'ioredis'
import type { Connection } from 'mongoose'
import type { Config } from '../config.ts'
import { withDeadline } from './store-deadline.ts'
import { NO_REPLICA_ACK, type ReplicaAck } from './replica-ack.ts'
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
import type { IdentifierUndoStore } from '../users/identifier-undo-store.ts'
import { RedisIdentifierUndoStore } from '../users/redis-identifier-undo-store.ts'
import { MemoryIdentifierUndoStore } from '../users/memory-identifier-undo-store.ts'
import { MongoUserRepository } from '../users/mongo-user-repository.ts'
import { MemoryUserRepository } from '../users/memory-user-repository.ts'
import type { SessionRepository } from '../sessions/session-repository.ts'
import { MongoSessionRepository } from '../sessions/mongo-session-repository.ts'
import { MemorySessionRepository } from '../sessions/memory-session-repository.ts'
import type { TotpCredentialRepository } from '../totp/totp-credential-repository.ts'
import { MongoTotpCredentialRepository } from '../totp/mongo-totp-credential-repository.ts'
import { MemoryTotpCredentialRepository } from '../totp/memory-totp-credential-repository.ts'
import type { AuditStore } from '../audit/audit-store.ts'
import { MongoAuditStore } from '../audit/mongo-audit-store.ts'
import { MemoryAuditStore } from '../audit/memory-audit-store.ts'

/** The ports kept in Redis: short-lived, keyed, expiring state. */
export interface KeyedStores {
  otp: OtpStore
  outbox: Outbox
  smsBudget: SmsBudgetStore
  smsFraud: SmsFraudStore
  revocations: RevocationStore
  totpAttempts: TotpAttemptStore
  mfaChallenges: MfaChallengeStore
  identifierUndos: IdentifierUndoStore
}

/** The ports kept in MongoDB: users, sessions, authenticator credentials and security events. */
export interface DocumentStores {
  users: UserRepository
  sessions: SessionRepository
  totpCredentials: TotpCredentialRepository
  auditEvents: AuditStore
}

export interface StoreOptions {
  /** the clock of the in-process adapters; tests inject one */
  now: () => Date
  /** before every Redis key: keeps parallel test files apart; '' in production */
  keyPrefix: string
  /** REDIS_WAIT_REPLICAS: the writes a client relies on wait for the replicas (none unless said) */
  replicaAck?: ReplicaAck
}

const DAY_MS = 86_400_000

/** Redis when connected (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES), this process otherwise: chosen once. */
export function createKeyedStores (
  config: Config, redis: Redis | Cluster | null, { now, keyPrefix, replicaAck = NO_REPLICA_ACK }: StoreOptions
): KeyedStores {
  if (redis) {
    const outboxKeySecret = config.OTP_PEPPER
    return {
      otp: new RedisOtpStore(redis, { keyPrefix: `${keyPrefix}otp:`, replicaAck }),
      outbox: new RedisOutbox(redis, { keyPrefix: `${keyPrefix}outbox:`, ...(outboxKeySecret ? { keySecret: outboxKeySecret } : {}) }),
      smsBudget: new RedisSmsBudget(redis, { keyPrefix: `${keyPrefix}sms-budget:` }),
      smsFraud: new RedisSmsFraudStore(redis, { keyPrefix: `${keyPrefix}sms-fraud:` }),
      revocations: new RedisRevocationStore(redis, { keyPrefix: `${keyPrefix}revoked:`, replicaAck }),
      totpAttempts: new RedisTotpAttemptStore(redis, { keyPrefix: `${keyPrefix}totp:` }),
      mfaChallenges: new RedisMfaChallengeStore(redis, { keyPrefix: `${keyPrefix}mfa:` }),
      identifierUndos: new RedisIdentifierUndoStore(redis, { keyPrefix: `${keyPrefix}identifier-undo:` })
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
    mfaChallenges: new MemoryMfaChallengeStore({ now: clock }),
    identifierUndos: new MemoryIdentifierUndoStore({ now: clock })
  }
}

/**
 * MongoDB when connected (MONGODB_URL), this process otherwise: chosen once, here. Every MongoDB call is bounded
 * by STORE_TIMEOUT_MS, as Redis commands are, so a stalled server answers 503 in time.
 */
export function createDocumentStores (
  config: Config, mongo: Connection | null, { now }: Pick<StoreOptions, 'now'>
): DocumentStores {
  const retentionMs = config.AUDIT_RETENTION_DAYS * DAY_MS
  if (mongo) {
    const bounded = <T extends object>(store: T, name: string): T => withDeadline(store, config.STORE_TIMEOUT_MS, name)
    return {
      users: bounded(new MongoUserRepository(mongo), 'users'),
      sessions: bounded(new MongoSessionRepository(mongo), 'sessions'),
      totpCredentials: bounded(new MongoTotpCredentialRepository(mongo), 'totp-credentials'),
      auditEvents: bounded(new MongoAuditStore(mongo, { retentionMs }), 'audit')
    }
  }
  const clock = () => now().getTime()
  return {
    users: new MemoryUserRepository({ now: clock }),
    sessions: new MemorySessionRepository(),
    totpCredentials: new MemoryTotpCredentialRepository(),
    auditEvents: new MemoryAuditStore({ retentionMs, now: clock })
  }
}
