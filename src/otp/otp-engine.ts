import { randomBytes } from 'node:crypto'
import { AppError } from '../errors.ts'
import type { Config } from '../config.ts'
import { destinationKey, generateCode, hashCode, newChallengeId } from './codes.ts'
import { isChallengeId, type ChallengePayload, type ChallengeSnapshot, type IssuedCode, type LockoutLimits, type OtpStore, type SendLimits, type SendRefusal } from './otp-store.ts'
import { parseTestIdentifiers, type TestCodeMatcher } from './test-identifiers.ts'

// route schemas validate challenge ids with it; the HTTP layer only needs this module
export { CHALLENGE_ID_PATTERN } from './otp-store.ts'

export interface OtpPolicy {
  codeLength: number
  ttlSeconds: number
  maxAttempts: number
  cooldownSeconds: number
  quota: number
  quotaWindowSeconds: number
  lockoutThreshold: number
  lockoutWindowSeconds: number
  lockoutSeconds: number
}

export interface OtpEngineOptions {
  store: OtpStore
  pepper: string
  /** still accepted for codes issued before a rotation */
  previousPepper?: string
  policy: OtpPolicy
  testCodeFor?: TestCodeMatcher
  /** cooldown and quota do not apply to test identifiers (the lockout still does) */
  skipQuotaForTestIdentifiers?: boolean
}

export interface StartChallengeInput {
  purpose: string
  channel: 'email' | 'sms'
  /** normalised by the caller */
  destination: string
  userId?: string | null
  locale?: string | null
  /** false = decoy (closed sign-up, disabled user): counted like a real one, never accepted by the caller */
  deliverable?: boolean
}

/** What a challenge is about, as start, resend and verify hand it back. */
export interface ChallengeDetails extends ChallengePayload {
  challengeId: string
}

export interface VerifiedChallenge extends ChallengeDetails {
  /**
   * Undoes this verify when the work that depends on it failed (a database was unavailable): the challenge comes
   * back with its code, attempts and remaining TTL, so the same code works once more. Resolves false, changing
   * nothing, when it has lapsed meanwhile, a newer challenge replaced it, or this was already called. Rejects when
   * the store is unreachable. A function, so the snapshot it closes over (it holds the code hash) is never
   * serialised or logged with the challenge.
   */
  reinstate: () => Promise<boolean>
}

export interface IssuedChallenge extends ChallengeDetails {
  /** to deliver, never to log */
  code: string
  isTestIdentifier: boolean
  expiresAt: Date
  resendAfter: Date
}

/** Whole seconds to wait, rounded up: a client retrying after them is never early. */
const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

/** `limit` is the budget that ran out, for RateLimit-Limit: one code per cooldown, the quota, or the lockout threshold. */
function refuse ({ outcome, retryAfterMs }: SendRefusal, policy: OtpPolicy): never {
  const retryAfter = retryAfterSeconds(retryAfterMs)
  if (outcome === 'cooldown') throw new AppError('cooldown', { retryAfter, limit: 1 })
  if (outcome === 'quota') throw new AppError('rate_limited', { retryAfter, limit: policy.quota, detail: 'Too many codes were sent to this destination; try again later' })
  throw new AppError('rate_limited', { retryAfter, limit: policy.lockoutThreshold })
}

function issuedChallenge (challengeId: string, code: string, issued: IssuedCode): IssuedChallenge {
  return {
    challengeId,
    code,
    ...issued.payload,
    isTestIdentifier: issued.fixedCode,
    expiresAt: new Date(issued.expiresAt),
    resendAfter: new Date(issued.resendAfter)
  }
}

function assertPolicy (policy: OtpPolicy): void {
  const positive = ['codeLength', 'ttlSeconds', 'maxAttempts', 'quota', 'quotaWindowSeconds', 'lockoutThreshold', 'lockoutWindowSeconds', 'lockoutSeconds'] as const
  for (const name of positive) if (!(policy[name] > 0)) throw new Error(`OTP policy ${name} must be positive`)
  if (!(policy.cooldownSeconds >= 0)) throw new Error('OTP policy cooldownSeconds must not be negative')
  if (!Number.isInteger(policy.codeLength) || policy.codeLength > 15) throw new Error('OTP policy codeLength must be an integer up to 15')
}

/** One-time codes: issue, resend, verify and withdraw challenges, with the per-destination limits of the policy. */
export class OtpEngine {
  readonly #store: OtpStore
  readonly #peppers: string[]
  readonly #policy: OtpPolicy
  readonly #testCodeFor: TestCodeMatcher
  readonly #skipQuotaForTestIdentifiers: boolean
  readonly #sendLimits: SendLimits
  readonly #lockout: LockoutLimits

  constructor (options: OtpEngineOptions) {
    assertPolicy(options.policy)
    this.#store = options.store
    this.#peppers = options.previousPepper === undefined ? [options.pepper] : [options.pepper, options.previousPepper]
    this.#policy = { ...options.policy }
    this.#testCodeFor = options.testCodeFor ?? (() => undefined)
    this.#skipQuotaForTestIdentifiers = options.skipQuotaForTestIdentifiers ?? false
    const ms = (seconds: number) => Math.round(seconds * 1000)
    this.#sendLimits = {
      ttlMs: ms(this.#policy.ttlSeconds),
      cooldownMs: ms(this.#policy.cooldownSeconds),
      quota: this.#policy.quota,
      quotaWindowMs: ms(this.#policy.quotaWindowSeconds)
    }
    this.#lockout = { threshold: this.#policy.lockoutThreshold, windowMs: ms(this.#policy.lockoutWindowSeconds), lockoutMs: ms(this.#policy.lockoutSeconds) }
  }

  /** Throws cooldown, or rate_limited (quota full, destination locked). */
  async startChallenge (input: StartChallengeInput): Promise<IssuedChallenge> {
    const { purpose, channel, destination } = input
    if (purpose === '') throw new TypeError('startChallenge needs a purpose')
    const pepper = this.#peppers[0]!
    const fixedCode = this.#testCodeFor(destination)
    const code = fixedCode ?? generateCode(this.#policy.codeLength)
    const destKey = destinationKey(pepper, destination)
    const challengeId = newChallengeId(destKey)
    const result = await this.#store.startChallenge({
      challengeId,
      destinationKey: destKey,
      payload: { purpose, channel, destination, userId: input.userId ?? null, locale: input.locale ?? null, deliverable: input.deliverable ?? true },
      codeHash: hashCode(pepper, challengeId, code),
      maxAttempts: this.#policy.maxAttempts,
      fixedCode: fixedCode !== undefined,
      skipSendLimits: fixedCode !== undefined && this.#skipQuotaForTestIdentifiers
    }, this.#sendLimits)
    if (result.outcome !== 'issued') refuse(result, this.#policy)
    return issuedChallenge(challengeId, code, result)
  }

  /** Same id, a new code, attempts back to 0. Throws challenge_expired, cooldown or rate_limited. */
  async resendChallenge (challengeId: string): Promise<IssuedChallenge> {
    if (!isChallengeId(challengeId)) throw new AppError('challenge_expired')
    const code = generateCode(this.#policy.codeLength)
    const result = await this.#store.resendChallenge(challengeId, hashCode(this.#peppers[0]!, challengeId, code), this.#sendLimits)
    if (result.outcome === 'expired') throw new AppError('challenge_expired')
    if (result.outcome !== 'issued') refuse(result, this.#policy)
    if (!result.fixedCode) return issuedChallenge(challengeId, code, result)
    const fixedCode = this.#testCodeFor(result.payload.destination)
    if (fixedCode === undefined) throw new Error('a test identifier challenge was resent, but its destination is no longer a test identifier')
    return issuedChallenge(challengeId, fixedCode, result)
  }

  /**
   * Single use. Throws challenge_expired (unknown, expired, used, other purpose), invalid_code with
   * remainingAttempts, too_many_attempts (the challenge is gone) or rate_limited (destination locked).
   */
  async verifyChallenge ({ challengeId, code, purpose }: { challengeId: string, code: string, purpose: string }): Promise<VerifiedChallenge> {
    if (!isChallengeId(challengeId)) throw new AppError('challenge_expired')
    const hashes = this.#peppers.map((pepper) => hashCode(pepper, challengeId, code))
    const result = await this.#store.verifyChallenge(challengeId, purpose, hashes, this.#lockout)
    switch (result.outcome) {
      case 'verified': return { challengeId, ...result.payload, reinstate: this.#reinstater(challengeId, result.snapshot) }
      case 'invalid': throw new AppError('invalid_code', { extensions: { remainingAttempts: result.remainingAttempts } })
      case 'exhausted': throw new AppError('too_many_attempts')
      case 'locked': return refuse(result, this.#policy)
      case 'expired': throw new AppError('challenge_expired')
    }
  }

  /** One use: a snapshot put back twice could revive a challenge that was verified again in between. */
  #reinstater (challengeId: string, snapshot: ChallengeSnapshot): () => Promise<boolean> {
    let used = false
    return async () => {
      if (used) return false
      used = true
      return await this.#store.reinstateChallenge(challengeId, snapshot)
    }
  }

  /**
   * Whether a code issued with `expiresAt` is still the one to send for this challenge: it is pending, not a decoy,
   * and neither replaced by a resend (which renews the expiry) nor used. For delivery workers; reads only.
   */
  async isDeliverable (challengeId: string, expiresAt: number): Promise<boolean> {
    const pending = isChallengeId(challengeId) ? await this.#store.peekChallenge(challengeId) : null
    return pending !== null && pending.payload.deliverable && pending.expiresAt === expiresAt
  }

  /** After a failed delivery: the challenge is gone and its cooldown and quota slot are given back. */
  async withdrawChallenge (challengeId: string): Promise<void> {
    if (isChallengeId(challengeId)) await this.#store.withdrawChallenge(challengeId)
  }
}

export function policyFromConfig (config: Config): OtpPolicy {
  return {
    codeLength: config.OTP_CODE_LENGTH,
    ttlSeconds: config.OTP_TTL_SECONDS,
    maxAttempts: config.OTP_MAX_ATTEMPTS,
    cooldownSeconds: config.OTP_RESEND_COOLDOWN_SECONDS,
    quota: config.OTP_SEND_QUOTA,
    quotaWindowSeconds: config.OTP_SEND_QUOTA_WINDOW_SECONDS,
    lockoutThreshold: config.OTP_LOCKOUT_THRESHOLD,
    lockoutWindowSeconds: config.OTP_LOCKOUT_WINDOW_SECONDS,
    lockoutSeconds: config.OTP_LOCKOUT_SECONDS
  }
}

/**
 * The engine as configured. Without OTP_PEPPER (refused in production by loadConfig) a random pepper is made:
 * codes then do not survive a restart, which is fine on a laptop. Test identifiers are honoured in production
 * only with ALLOW_TEST_IDENTIFIERS.
 */
export function createOtpEngine (config: Config, store: OtpStore): OtpEngine {
  const honourTestIdentifiers = config.NODE_ENV !== 'production' || config.ALLOW_TEST_IDENTIFIERS
  return new OtpEngine({
    store,
    pepper: config.OTP_PEPPER ?? randomBytes(32).toString('base64url'),
    previousPepper: config.OTP_PEPPER_PREVIOUS,
    policy: policyFromConfig(config),
    testCodeFor: honourTestIdentifiers ? parseTestIdentifiers(config.TEST_IDENTIFIERS, config.OTP_CODE_LENGTH) : undefined,
    skipQuotaForTestIdentifiers: config.TEST_IDENTIFIERS_SKIP_QUOTA
  })
}
