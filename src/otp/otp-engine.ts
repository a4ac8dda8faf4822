import { randomBytes } from '../random-bytes.ts'
import { AppError } from '../errors.ts'
import type { Config } from '../config.ts'
import type { KeyObject } from 'node:crypto'
import { hmacKey } from '../hmac-key.ts'
import { destinationKey, generateCode, hashCode, hashLinkSecret, newChallengeId, newLinkSecret } from './codes.ts'
import { isChallengeId, type ChallengePayload, type ChallengeSnapshot, type OtpStore, type SendLimits } from './otp-store.ts'
import {
  issuedChallenge, type BudgetLane, type CodeDeliveryAction, type IssuedChallenge, type StartChallengeInput,
  type VerifiedChallenge
} from './challenges.ts'
import type { ThrottleLimits } from '../throttle/throttling.ts'
import {
  assertPolicy, limitIdentity, policyFromConfig, sendLimitsOf, throttleLimitsOf, type OtpPolicy
} from './otp-policy.ts'
import { aboutChallenge, codesSuspended, sendRefused, throttled } from './otp-refusals.ts'
import { parseTestIdentifiers, type TestCodeMatcher } from './test-identifiers.ts'
import { NO_METRICS, type Metrics } from '../metrics/metrics.ts'

// route schemas validate challenge ids with it, and the audit log reads refusals with challengeOf: the layers
// above only need this module
export { CHALLENGE_ID_PATTERN } from './otp-store.ts'
export { LINK_TOKEN_PATTERN } from './codes.ts'
export { challengeOf } from './otp-refusals.ts'
export type { OtpPolicy } from './otp-policy.ts'
export type {
  BudgetLane, ChallengeDetails, CodeDeliveryAction, IssuedChallenge, StartChallengeInput, VerifiedChallenge
} from './challenges.ts'

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

/**
 * One-time codes: issue, resend, verify and withdraw challenges, with the per-destination limits of the policy.
 * Test identifiers are decided here, not in the store: their fixed code is the code issued (and resent), and with
 * skipQuotaForTestIdentifiers their sends are `exempt` from the store's send limits.
 */
export class OtpEngine {
  readonly #store: OtpStore
  readonly #peppers: KeyObject[]
  readonly #policy: OtpPolicy
  readonly #testCodeFor: TestCodeMatcher | undefined
  readonly #sendLimits: SendLimits
  readonly #testSendLimits: SendLimits
  readonly #throttle: ThrottleLimits
  readonly #onThrottled: (challenge: ChallengePayload) => void
  readonly #metrics: Metrics

  constructor (options: OtpEngineOptions) {
    assertPolicy(options.policy)
    this.#store = options.store
    const peppers = options.previousPepper === undefined ? [options.pepper] : [options.pepper, options.previousPepper]
    // made keys once: see hmac-key.ts
    this.#peppers = peppers.map(hmacKey)
    this.#policy = { ...options.policy }
    this.#testCodeFor = options.testCodeFor
    this.#metrics = options.metrics ?? NO_METRICS
    this.#sendLimits = sendLimitsOf(this.#policy)
    this.#testSendLimits = { ...this.#sendLimits, exempt: options.skipQuotaForTestIdentifiers ?? false }
    this.#throttle = throttleLimitsOf(this.#policy)
    this.#onThrottled = options.onThrottled ?? (() => {})
  }

  /**
   * The key of a destination's counters in one lane: the owner's lane (a recognised device, a signed-in user's
   * step-up) has a key of its own, so its pointer, cooldown, quotas and throttle are apart from the anonymous ones.
   * Same first 4 chars: one Cluster slot, one challenge id bucket.
   */
  #destinationKey (channel: 'email' | 'sms', destination: string, lane: BudgetLane = 'anonymous'): string {
    const key = destinationKey(this.#peppers[0]!, limitIdentity(channel, destination))
    return lane === 'owner' ? `${key}o` : key
  }

  /** A new link secret for `challengeId` and what the store keeps of it. */
  #newLink (challengeId: string): { token: string, linkHash: string } {
    const secret = newLinkSecret()
    return { token: `${challengeId}.${secret}`, linkHash: hashLinkSecret(this.#peppers[0]!, challengeId, secret) }
  }

  /** The code to issue for `destination` and the limits its send is held to: a test identifier's, or a new one. */
  #codeFor (destination: string | undefined): { code: string, isTestIdentifier: boolean, limits: SendLimits } {
    const fixedCode = destination === undefined ? undefined : this.#testCodeFor?.(destination)
    if (fixedCode !== undefined) return { code: fixedCode, isTestIdentifier: true, limits: this.#testSendLimits }
    return { code: generateCode(this.#policy.codeLength), isTestIdentifier: false, limits: this.#sendLimits }
  }

  /**
   * Throws cooldown, or rate_limited (a quota full). For a destination whose code checks are suspended the answer
   * carries `linkToken`: the code cannot be verified, the link can (verifyLink), and only the link is to be sent.
   */
  async startChallenge (input: StartChallengeInput): Promise<IssuedChallenge> {
    const { purpose, channel, destination } = input
    if (purpose === '') throw new TypeError('startChallenge needs a purpose')
    const { code, isTestIdentifier, limits } = this.#codeFor(destination)
    const destKey = this.#destinationKey(channel, destination, input.lane)
    const challengeId = newChallengeId(destKey)
    const link = this.#newLink(challengeId)
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
      codeHash: hashCode(this.#peppers[0]!, challengeId, code),
      linkHash: link.linkHash,
      maxAttempts: this.#policy.maxAttempts
    }, limits, this.#throttle)
    if (result.outcome !== 'issued') throw sendRefused(result, this.#policy)
    return issuedChallenge(challengeId, code, isTestIdentifier, result, link.token)
  }

  /**
   * Same id, a new code, attempts back to 0. Throws challenge_expired, cooldown or rate_limited. With test
   * identifiers configured the challenge's destination is read first (one more round trip): it decides the code.
   */
  async resendChallenge (challengeId: string): Promise<IssuedChallenge> {
    if (!isChallengeId(challengeId)) throw new AppError('challenge_expired')
    const pending = this.#testCodeFor === undefined ? null : await this.#store.peekChallenge(challengeId)
    const { code, isTestIdentifier, limits } = this.#codeFor(pending?.payload.destination)
    const codeHash = hashCode(this.#peppers[0]!, challengeId, code)
    const link = this.#newLink(challengeId)
    const hashes = { codeHash, linkHash: link.linkHash }
    const result = await this.#store.resendChallenge(challengeId, hashes, limits, this.#throttle)
    if (result.outcome === 'expired') throw new AppError('challenge_expired')
    if (result.outcome !== 'issued') throw sendRefused(result, this.#policy)
    return issuedChallenge(challengeId, code, isTestIdentifier, result, link.token)
  }

  /**
   * Single use. Throws challenge_expired (unknown, expired, used, other purpose), invalid_code with
   * remainingAttempts, too_many_attempts (the challenge is gone), rate_limited (the destination's throttle wait
   * runs) or login_suspended (its code checks are suspended: nothing is checked, the link still works).
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
        return { challengeId, ...result.payload, reinstate: this.#reinstater(challengeId, result.snapshot) }
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
      case 'suspended':
        metrics.verification(result.payload?.channel ?? null, 'too_many_attempts')
        throw aboutChallenge(codesSuspended(result.retryAfterMs), result.payload)
      case 'expired':
        metrics.verification(null, 'expired')
        throw new AppError('challenge_expired')
    }
  }

  /**
   * A sign-in link's token (`<challengeId>.<secret>`) in place of the code: single use, neither throttled nor
   * counted (the secret has 256 bits). Throws challenge_expired for anything but a live challenge's own link.
   */
  async verifyLink ({ token, purpose }: { token: string, purpose: string }): Promise<VerifiedChallenge> {
    const dot = token.lastIndexOf('.')
    const challengeId = token.slice(0, dot)
    const secret = token.slice(dot + 1)
    if (dot < 0 || !isChallengeId(challengeId) || secret === '') throw new AppError('challenge_expired')
    const linkHash = hashLinkSecret(this.#peppers[0]!, challengeId, secret)
    const result = await this.#store.verifyLink(challengeId, purpose, linkHash)
    if (result.outcome !== 'verified') {
      this.#metrics.verification(null, 'expired')
      throw new AppError('challenge_expired', { detail: 'The sign-in link has expired or was used; ask for a new one.' })
    }
    const { channel, destination, deliverable } = result.payload
    if (deliverable) this.#metrics.verification(channel, 'success', destination)
    else this.#metrics.verification(channel, 'invalid_code')
    return { challengeId, ...result.payload, reinstate: this.#reinstater(challengeId, result.snapshot) }
  }

  #notifyThrottled (challenge: ChallengePayload | undefined): void {
    // decoys reach nobody: a notice would tell the guesser nothing, and nobody owns the address
    if (challenge?.deliverable === true) this.#onThrottled(challenge)
  }

  /** Ends a destination's runs of wrong codes, waits and suspensions in both lanes (an operator, a recovery code). */
  async clearFailures (channel: 'email' | 'sms', destination: string): Promise<void> {
    await Promise.all([
      this.#store.clearFailures(this.#destinationKey(channel, destination)),
      this.#store.clearFailures(this.#destinationKey(channel, destination, 'owner'))
    ])
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

/**
 * The engine as configured. Without OTP_PEPPER (refused in production by loadConfig) a random pepper is made:
 * codes then do not survive a restart, which is fine on a laptop. Test identifiers are honoured in production
 * only with ALLOW_TEST_IDENTIFIERS.
 */
export function createOtpEngine (
  config: Config, store: OtpStore, metrics: Metrics = NO_METRICS, hooks: Pick<OtpEngineOptions, 'onThrottled'> = {}
): OtpEngine {
  const honourTestIdentifiers = config.TEST_IDENTIFIERS.length > 0 &&
    (config.NODE_ENV !== 'production' || config.ALLOW_TEST_IDENTIFIERS)
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
