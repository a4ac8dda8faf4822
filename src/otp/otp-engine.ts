import { randomBytes } from 'node:crypto'
import { AppError } from '../errors.ts'
import type { Config } from '../config.ts'
import { destinationKey, generateCode, hashCode, newChallengeId } from './codes.ts'
import { isChallengeId, type ChallengePayload, type ChallengeSnapshot, type IssuedCode, type OtpStore, type SendLimits, type SendRefusal } from './otp-store.ts'
import { throttleLimits, type ThrottleLimits } from '../throttling.ts'
import { parseTestIdentifiers, type TestCodeMatcher } from './test-identifiers.ts'
import { NO_METRICS, type Metrics } from '../metrics/metrics.ts'

// route schemas validate challenge ids with it; the HTTP layer only needs this module
export { CHALLENGE_ID_PATTERN } from './otp-store.ts'

/** What a delivery worker does with a queued code (OtpEngine.deliveryOf). */
export type CodeDeliveryAction = 'send' | 'rehearse' | 'drop'

export interface OtpPolicy {
  codeLength: number
  ttlSeconds: number
  maxAttempts: number
  cooldownSeconds: number
  quota: number
  quotaWindowSeconds: number
  dailyQuota: number
  /** consecutive wrong codes per destination answered without a wait */
  throttleAfterFailures: number
  /** the longest wait between two verifications of a throttled destination */
  throttleMaxSeconds: number
  /** consecutive wrong codes that suspend code logins for the destination */
  suspendAfterFailures: number
}
const DAY_MS = 86_400_000

/**
 * Email plus-aliases (`a+x@`, `a+y@`) are one mailbox: they share every per-destination limit (cooldown, quotas,
 * throttling), so aliases cannot multiply a mailbox's budget. Accounts stay per address.
 */
export function limitIdentity (channel: 'email' | 'sms', destination: string): string {
  if (channel !== 'email') return destination
  const at = destination.lastIndexOf('@')
  const plus = destination.indexOf('+')
  return plus > 0 && plus < at ? destination.slice(0, plus) + destination.slice(at) : destination
}

export interface OtpEngineOptions {
  store: OtpStore
  pepper: string
  /** still accepted for codes issued before a rotation */
  previousPepper?: string
  policy: OtpPolicy
  testCodeFor?: TestCodeMatcher
  /** cooldown and quota do not apply to test identifiers (throttling still does) */
  skipQuotaForTestIdentifiers?: boolean
  /**
   * Called (never awaited) when a wrong code starts a throttle wait for a real destination, at most once per
   * destination and THROTTLE_NOTICE_INTERVAL_MS: the owner is told someone is guessing.
   */
  onThrottled?: (challenge: ChallengePayload) => void
  /** counts each verify's outcome */
  metrics?: Metrics
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
  /** the code was right, but code logins for this destination are suspended (SUSPEND_AFTER_FAILURES) */
  suspended: boolean
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

/** `limit` is the budget that ran out, for RateLimit-Limit: one code per cooldown, or a quota. */
function refuse ({ outcome, retryAfterMs }: SendRefusal, policy: OtpPolicy): never {
  const retryAfter = retryAfterSeconds(retryAfterMs)
  if (outcome === 'cooldown') throw new AppError('cooldown', { retryAfter, limit: 1 })
  if (outcome === 'daily_quota') {
    throw new AppError('rate_limited', { retryAfter, limit: policy.dailyQuota, detail: 'Too many codes were sent to this destination today; try again later' })
  }
  throw new AppError('rate_limited', { retryAfter, limit: policy.quota, detail: 'Too many codes were sent to this destination; try again later' })
}

const throttled = (retryAfterMs: number) => new AppError('rate_limited', {
  retryAfter: retryAfterSeconds(retryAfterMs),
  detail: 'Too many wrong codes for this destination; wait before trying again'
})

const CHALLENGE = Symbol('challenge')

/** Tags a refused verify's error with whose challenge it was (not enumerable: never logged nor sent). */
function aboutChallenge (error: AppError, payload: ChallengePayload | undefined): AppError {
  if (payload !== undefined) Object.defineProperty(error, CHALLENGE, { value: payload, enumerable: false })
  return error
}

/** The challenge a refused verify was about (invalid_code, too_many_attempts, a throttle wait), for the audit log. */
export const challengeOf = (error: unknown): ChallengePayload | null =>
  (error as { [CHALLENGE]?: ChallengePayload } | null)?.[CHALLENGE] ?? null

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
  const positive = [
    'codeLength', 'ttlSeconds', 'maxAttempts', 'quota', 'quotaWindowSeconds', 'dailyQuota', 'throttleMaxSeconds', 'suspendAfterFailures'
  ] as const
  for (const name of positive) if (!(policy[name] > 0)) throw new Error(`OTP policy ${name} must be positive`)
  if (!(policy.cooldownSeconds >= 0)) throw new Error('OTP policy cooldownSeconds must not be negative')
  if (!(policy.throttleAfterFailures >= 0)) throw new Error('OTP policy throttleAfterFailures must not be negative')
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
  readonly #throttle: ThrottleLimits
  readonly #onThrottled: (challenge: ChallengePayload) => void
  readonly #metrics: Metrics

  constructor (options: OtpEngineOptions) {
    assertPolicy(options.policy)
    this.#store = options.store
    this.#peppers = options.previousPepper === undefined ? [options.pepper] : [options.pepper, options.previousPepper]
    this.#policy = { ...options.policy }
    this.#testCodeFor = options.testCodeFor ?? (() => undefined)
    this.#skipQuotaForTestIdentifiers = options.skipQuotaForTestIdentifiers ?? false
    this.#metrics = options.metrics ?? NO_METRICS
    const ms = (seconds: number) => Math.round(seconds * 1000)
    this.#sendLimits = {
      ttlMs: ms(this.#policy.ttlSeconds),
      cooldownMs: ms(this.#policy.cooldownSeconds),
      quota: this.#policy.quota,
      quotaWindowMs: ms(this.#policy.quotaWindowSeconds),
      dailyQuota: this.#policy.dailyQuota,
      dailyWindowMs: DAY_MS
    }
    this.#throttle = throttleLimits({
      freeFailures: this.#policy.throttleAfterFailures,
      maxDelayMs: ms(this.#policy.throttleMaxSeconds),
      suspendAfter: this.#policy.suspendAfterFailures
    })
    this.#onThrottled = options.onThrottled ?? (() => {})
  }

  #destinationKey (channel: 'email' | 'sms', destination: string): string {
    return destinationKey(this.#peppers[0]!, limitIdentity(channel, destination))
  }

  /** Throws cooldown, or rate_limited (a quota full). */
  async startChallenge (input: StartChallengeInput): Promise<IssuedChallenge> {
    const { purpose, channel, destination } = input
    if (purpose === '') throw new TypeError('startChallenge needs a purpose')
    const pepper = this.#peppers[0]!
    const fixedCode = this.#testCodeFor(destination)
    const code = fixedCode ?? generateCode(this.#policy.codeLength)
    const destKey = this.#destinationKey(channel, destination)
    const challengeId = newChallengeId(destKey)
    const result = await this.#store.startChallenge({
      challengeId,
      destinationKey: destKey,
      payload: {
        purpose,
        channel,
        destination,
        userId: input.userId ?? null,
        locale: input.locale ?? null,
        deliverable: input.deliverable ?? true
      },
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
    const result = await this.#store.resendChallenge(
      challengeId, hashCode(this.#peppers[0]!, challengeId, code), this.#sendLimits
    )
    if (result.outcome === 'expired') throw new AppError('challenge_expired')
    if (result.outcome !== 'issued') refuse(result, this.#policy)
    if (!result.fixedCode) return issuedChallenge(challengeId, code, result)
    const fixedCode = this.#testCodeFor(result.payload.destination)
    if (fixedCode === undefined) throw new Error('a test identifier challenge was resent, but its destination is no longer a test identifier')
    return issuedChallenge(challengeId, fixedCode, result)
  }

  /**
   * Single use. Throws challenge_expired (unknown, expired, used, other purpose), invalid_code with
   * remainingAttempts, too_many_attempts (the challenge is gone) or rate_limited (the destination's throttle wait
   * runs). A right code for a suspended destination resolves with `suspended`: the caller decides what it allows.
   */
  async verifyChallenge (
    { challengeId, code, purpose }: { challengeId: string, code: string, purpose: string }
  ): Promise<VerifiedChallenge> {
    const metrics = this.#metrics
    if (!isChallengeId(challengeId)) {
      metrics.verification(null, 'expired')
      throw new AppError('challenge_expired')
    }
    const hashes = this.#peppers.map((pepper) => hashCode(pepper, challengeId, code))
    const result = await this.#store.verifyChallenge(challengeId, purpose, hashes, this.#throttle)
    switch (result.outcome) {
      case 'verified': {
        // a decoy's right code is refused by the caller: the client sees a wrong code, and so do the metrics
        const { channel, destination, deliverable } = result.payload
        if (deliverable) metrics.verification(channel, 'success', destination)
        else metrics.verification(channel, 'invalid_code')
        return {
          challengeId,
          ...result.payload,
          suspended: result.suspended,
          reinstate: this.#reinstater(challengeId, result.snapshot)
        }
      }
      case 'invalid':
        metrics.verification(result.payload?.channel ?? null, 'invalid_code')
        if (result.notify) this.#notifyThrottled(result.payload)
        throw aboutChallenge(new AppError('invalid_code', { extensions: { remainingAttempts: result.remainingAttempts } }), result.payload)
      case 'exhausted':
        metrics.verification(result.payload?.channel ?? null, 'too_many_attempts')
        if (result.notify) this.#notifyThrottled(result.payload)
        throw aboutChallenge(new AppError('too_many_attempts'), result.payload)
      case 'throttled':
        // the destination waits after too many wrong codes
        metrics.verification(result.payload?.channel ?? null, 'too_many_attempts')
        throw aboutChallenge(throttled(result.retryAfterMs), result.payload)
      case 'expired':
        metrics.verification(null, 'expired')
        throw new AppError('challenge_expired')
    }
  }

  #notifyThrottled (challenge: ChallengePayload | undefined): void {
    // decoys reach nobody: a notice would tell the guesser nothing, and nobody owns the address
    if (challenge?.deliverable === true) this.#onThrottled(challenge)
  }

  /** Ends a destination's run of wrong codes, its wait and its suspension (an operator, or a recovery-code sign-in). */
  async clearFailures (channel: 'email' | 'sms', destination: string): Promise<void> {
    await this.#store.clearFailures(this.#destinationKey(channel, destination))
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
   * What a delivery worker does with a code issued with `expiresAt`: `send` it while it is the challenge's pending
   * code (neither replaced by a resend, which renews the expiry, nor used); `rehearse` it when that code is a
   * decoy's (the worker does all but the network call, so a decoy costs what a real code does); else `drop` it.
   * Reads only.
   */
  async deliveryOf (challengeId: string, expiresAt: number): Promise<CodeDeliveryAction> {
    const pending = isChallengeId(challengeId) ? await this.#store.peekChallenge(challengeId) : null
    if (pending === null || pending.expiresAt !== expiresAt) return 'drop'
    return pending.payload.deliverable ? 'send' : 'rehearse'
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
    dailyQuota: config.OTP_DAILY_QUOTA,
    throttleAfterFailures: config.OTP_THROTTLE_AFTER_FAILURES,
    throttleMaxSeconds: config.OTP_THROTTLE_MAX_SECONDS,
    suspendAfterFailures: config.SUSPEND_AFTER_FAILURES
  }
}

/**
 * The engine as configured. Without OTP_PEPPER (refused in production by loadConfig) a random pepper is made:
 * codes then do not survive a restart, which is fine on a laptop. Test identifiers are honoured in production
 * only with ALLOW_TEST_IDENTIFIERS.
 */
export function createOtpEngine (
  config: Config, store: OtpStore, metrics: Metrics = NO_METRICS, hooks: Pick<OtpEngineOptions, 'onThrottled'> = {}
): OtpEngine {
  const honourTestIdentifiers = config.NODE_ENV !== 'production' || config.ALLOW_TEST_IDENTIFIERS
  return new OtpEngine({
    store,
    pepper: config.OTP_PEPPER ?? randomBytes(32).toString('base64url'),
    previousPepper: config.OTP_PEPPER_PREVIOUS,
    policy: policyFromConfig(config),
    testCodeFor: honourTestIdentifiers
      ? parseTestIdentifiers(config.TEST_IDENTIFIERS, config.OTP_CODE_LENGTH)
      : undefined,
    skipQuotaForTestIdentifiers: config.TEST_IDENTIFIERS_SKIP_QUOTA,
    metrics,
    ...hooks
  })
}
