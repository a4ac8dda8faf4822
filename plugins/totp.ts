import fp from 'fastify-plugin'
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { FAILURE_MEMORY_MS, THROTTLE_BASE_DELAY_MS, THROTTLE_NOTICE_INTERVAL_MS } from '../src/throttling.ts'
import { parseEncryptionKeys, SecretBox } from '../src/totp/secret-box.ts'
import { TotpAuthenticator } from '../src/totp/totp-authenticator.ts'
import type { TotpCredentialRepository } from '../src/totp/totp-credential-repository.ts'
import { MongoTotpCredentialRepository } from '../src/totp/mongo-totp-credential-repository.ts'
import { MemoryTotpCredentialRepository } from '../src/totp/memory-totp-credential-repository.ts'
import type { TotpAttemptStore } from '../src/totp/totp-attempt-store.ts'
import { RedisTotpAttemptStore } from '../src/totp/redis-totp-attempt-store.ts'
import { MemoryTotpAttemptStore } from '../src/totp/memory-totp-attempt-store.ts'
import type { MfaChallengeStore } from '../src/totp/mfa-challenge-store.ts'
import { RedisMfaChallengeStore } from '../src/totp/redis-mfa-challenge-store.ts'
import { MemoryMfaChallengeStore } from '../src/totp/memory-mfa-challenge-store.ts'
import { MfaChallenges } from '../src/totp/mfa-challenges.ts'
import { withDeadline } from '../src/store-deadline.ts'

declare module 'fastify' {
  interface FastifyInstance {
    totp: TotpAuthenticator
    mfa: MfaChallenges
  }
}

const MFA_TOKEN_TTL_SECONDS = 300

function secretBox (app: FastifyInstance, config: Config): SecretBox {
  if (config.TOTP_ENCRYPTION_KEYS.length > 0) return new SecretBox(parseEncryptionKeys(config.TOTP_ENCRYPTION_KEYS))
  // loadConfig refuses this in production
  app.log.warn('TOTP_ENCRYPTION_KEYS is not set: authenticator secrets are sealed with an ephemeral key and stop working on restart. Not for production.')
  return SecretBox.ephemeral()
}

/** Builds authenticator apps and MFA from config: Redis/MongoDB adapters when configured, in-process ones otherwise. */
async function totpPlugin (app: FastifyInstance, { config, keyPrefix }: { config: Config, keyPrefix: string }) {
  const { redis, mongo, now } = app
  const credentials: TotpCredentialRepository = mongo
    ? withDeadline(new MongoTotpCredentialRepository(mongo), config.STORE_TIMEOUT_MS, 'totp-credentials')
    : new MemoryTotpCredentialRepository()
  const attempts: TotpAttemptStore = redis
    ? new RedisTotpAttemptStore(redis, { keyPrefix: `${keyPrefix}totp:` })
    : new MemoryTotpAttemptStore({ now: () => now().getTime() })
  const challenges: MfaChallengeStore = redis
    ? new RedisMfaChallengeStore(redis, { keyPrefix: `${keyPrefix}mfa:` })
    : new MemoryMfaChallengeStore({ now: () => now().getTime() })
  await credentials.init()

  const totp = new TotpAuthenticator({
    credentials,
    attempts,
    box: secretBox(app, config),
    issuer: config.APP_NAME,
    throttle: {
      freeFailures: config.TOTP_THROTTLE_AFTER_FAILURES,
      baseDelayMs: THROTTLE_BASE_DELAY_MS,
      maxDelayMs: config.TOTP_THROTTLE_MAX_SECONDS * 1000,
      suspendAfter: config.SUSPEND_AFTER_FAILURES,
      memoryMs: FAILURE_MEMORY_MS,
      noticeIntervalMs: THROTTLE_NOTICE_INTERVAL_MS
    },
    now,
    subjectKey: config.OTP_PEPPER ?? randomBytes(32).toString('base64url'),
    markEnrolled: (userId, enrolled) => app.users.setMfaEnrolled(userId, enrolled)
  })
  const mfa = new MfaChallenges({ store: challenges, ttlSeconds: MFA_TOKEN_TTL_SECONDS, now: () => now().getTime() })

  app.decorate('totp', totp)
  app.decorate('mfa', mfa)
  app.addHook('onClose', async () => { await Promise.all([attempts.close(), challenges.close()]) })
}

export default fp(totpPlugin, { name: 'totp', fastify: '5.x', dependencies: ['services'] })
