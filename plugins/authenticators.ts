import fp from 'fastify-plugin'
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { minutesOf } from '../src/delivery/templates/render.ts'
import { throttleLimits } from '../src/throttling.ts'
import { parseEncryptionKeys, SecretBox } from '../src/totp/secret-box.ts'
import { TotpAuthenticator } from '../src/totp/totp-authenticator.ts'
import { MfaChallenges } from '../src/totp/mfa-challenges.ts'

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

function notifyThrottled (app: FastifyInstance, userId: string, minutes: number): void {
  const notice = async () => {
    const user = await app.users.findById(userId)
    if (user?.status !== 'active') return
    const [channel, to] = user.email !== null ? ['email' as const, user.email] : ['sms' as const, user.phone]
    if (to === null) return
    await app.notifier.notify({ kind: 'login_throttled', channel, to, locale: user.locale, minutes })
  }
  notice().catch((error: unknown) => app.log.warn({ err: error }, 'could not queue a throttle notice'))
}

/** Builds authenticator apps and MFA on the stores the services plugin chose. */
async function totpPlugin (app: FastifyInstance, { config, keyPrefix }: { config: Config, keyPrefix: string }) {
  const { stores, now } = app
  const { totpCredentials: credentials, totpAttempts: attempts, mfaChallenges: challenges } = stores

  const totp = new TotpAuthenticator({
    credentials,
    attempts,
    box: secretBox(app, config),
    issuer: config.APP_NAME,
    throttle: throttleLimits({
      freeFailures: config.TOTP_THROTTLE_AFTER_FAILURES,
      maxDelayMs: config.TOTP_THROTTLE_MAX_SECONDS * 1000,
      suspendAfter: config.SUSPEND_AFTER_FAILURES
    }),
    now,
    subjectKey: config.OTP_PEPPER ?? randomBytes(32).toString('base64url'),
    markEnrolled: (userId, enrolled) => app.users.setMfaEnrolled(userId, enrolled),
    // the account's owner hears that someone is guessing its authenticator codes, on its email (else its phone)
    onThrottled: (userId) => { notifyThrottled(app, userId, minutesOf(config.TOTP_THROTTLE_MAX_SECONDS)) }
  })
  const mfa = new MfaChallenges({ store: challenges, ttlSeconds: MFA_TOKEN_TTL_SECONDS, now: () => now().getTime() })

  app.decorate('totp', totp)
  app.decorate('mfa', mfa)
  app.addHook('onClose', async () => { await Promise.all([attempts.close(), challenges.close()]) })
}

export default fp(totpPlugin, { name: 'totp', fastify: '5.x', dependencies: ['services'] })
