import { timingSafeEqual } from 'node:crypto'
import { ExpiringMap } from './expiring-map.ts'
import type {
  ChallengePayload, ChallengeSnapshot, IssuedCode, LinkResult, NewChallenge, OtpStore, PendingChallenge,
  ResendResult, SendLimits, SendRefusal, StartResult, VerifyResult
} from './otp-store.ts'
import { FailureThrottle, type ThrottleLimits } from '../throttle/throttling.ts'

interface StoredChallenge {
  destinationKey: string
  payload: ChallengePayload
  codeHash: string
  linkHash: string
  attempts: number
  maxAttempts: number
  createdAt: number
  /** the expiry the current code was issued with */
  expiresAt: number
  /** the quota slot the last send took, refunded by withdraw */
  slot: number | null
}

/** What ChallengeSnapshot is here: a copy of the challenge and when it would have lapsed on the store's clock. */
interface MemorySnapshot { challenge: StoredChallenge, expiresAt: number }

const copy = (challenge: StoredChallenge): StoredChallenge => ({ ...challenge, payload: { ...challenge.payload } })

/** Equal HMACs, compared in constant time; an empty one (no link) never matches. */
function sameHash (stored: string, given: string): boolean {
  const a = Buffer.from(stored)
  const b = Buffer.from(given)
  return a.length > 0 && a.length === b.length && timingSafeEqual(a, b)
}

/** Sliding window log, oldest first: one entry per send. */
type WindowLog = Array<{ slot: number, at: number }>

export interface MemoryOtpStoreOptions {
  /** epoch ms; tests inject a clock they move by hand */
  now?: () => number
  /** how often expired entries are dropped; reads never see them anyway */
  sweepIntervalMs?: number
}

/**
 * The OtpStore contract (see otp-store.ts) in process memory, for the embedded mode and tests. Every method does
 * all its work synchronously, so each is atomic for this process; state is lost on restart and not shared
 * between workers.
 */
export class MemoryOtpStore implements OtpStore {
  readonly #now: () => number
  readonly #challenges: ExpiringMap<StoredChallenge>
  /** destination+purpose → current challenge id */
  readonly #pointers: ExpiringMap<string>
  readonly #cooldowns: ExpiringMap<true>
  readonly #quotas: ExpiringMap<WindowLog>
  /** wrong codes per destination */
  readonly #throttle: FailureThrottle
  readonly #sweeper: NodeJS.Timeout
  #nextSlot = 1

  constructor ({ now = Date.now, sweepIntervalMs = 60_000 }: MemoryOtpStoreOptions = {}) {
    this.#now = now
    this.#challenges = new ExpiringMap(now)
    this.#pointers = new ExpiringMap(now)
    this.#cooldowns = new ExpiringMap(now)
    this.#quotas = new ExpiringMap(now)
    this.#throttle = new FailureThrottle(now)
    const maps = [this.#challenges, this.#pointers, this.#cooldowns, this.#quotas, this.#throttle]
    this.#sweeper = setInterval(() => { for (const map of maps) map.sweep() }, sweepIntervalMs).unref()
  }

  /** entries held, expired ones not yet swept included */
  get size (): number {
    return this.#challenges.size + this.#pointers.size + this.#cooldowns.size + this.#quotas.size + this.#throttle.size
  }

  #window (map: ExpiringMap<WindowLog>, key: string, windowMs: number): WindowLog {
    const cutoff = this.#now() - windowMs
    return (map.get(key) ?? []).filter((entry) => entry.at > cutoff)
  }

  #sendRefusal (destinationKey: string, purpose: string, limits: SendLimits): SendRefusal | undefined {
    if (limits.exempt === true) return undefined
    const cooling = this.#cooldowns.remainingMs(`${destinationKey}\0${purpose}`)
    if (cooling > 0) return { outcome: 'cooldown', retryAfterMs: cooling }
    const today = this.#window(this.#quotas, destinationKey, limits.dailyWindowMs)
    const freeingDay = today[today.length - limits.dailyQuota]
    if (freeingDay !== undefined) return { outcome: 'daily_quota', retryAfterMs: freeingDay.at + limits.dailyWindowMs - this.#now() }
    const sends = this.#window(this.#quotas, destinationKey, limits.quotaWindowMs)
    const freeing = sends[sends.length - limits.quota]
    if (freeing !== undefined) return { outcome: 'quota', retryAfterMs: freeing.at + limits.quotaWindowMs - this.#now() }
    return undefined
  }

  /** takes a cooldown and a quota slot; answers the slot and when the next send is allowed */
  #recordSend (
    destinationKey: string, purpose: string, limits: SendLimits
  ): { slot: number | null, resendAfter: number } {
    const now = this.#now()
    if (limits.exempt === true) return { slot: null, resendAfter: now }
    const slot = this.#nextSlot++
    const horizonMs = Math.max(limits.quotaWindowMs, limits.dailyWindowMs)
    this.#quotas.set(
      destinationKey, [...this.#window(this.#quotas, destinationKey, horizonMs), { slot, at: now }], horizonMs
    )
    if (limits.cooldownMs <= 0) return { slot, resendAfter: now }
    this.#cooldowns.set(`${destinationKey}\0${purpose}`, true, limits.cooldownMs)
    return { slot, resendAfter: now + limits.cooldownMs }
  }

  #issued (challenge: StoredChallenge, resendAfter: number, throttle: ThrottleLimits): IssuedCode {
    const { payload, expiresAt, destinationKey } = challenge
    const { suspended } = this.#throttle.state(destinationKey, throttle)
    return { outcome: 'issued', payload: { ...payload }, createdAt: this.#now(), expiresAt, resendAfter, suspended }
  }

  #delete (challengeId: string, challenge: StoredChallenge): void {
    this.#challenges.delete(challengeId)
    const pointer = `${challenge.destinationKey}\0${challenge.payload.purpose}`
    if (this.#pointers.get(pointer) === challengeId) this.#pointers.delete(pointer)
  }

  async startChallenge (input: NewChallenge, limits: SendLimits, throttle: ThrottleLimits): Promise<StartResult> {
    const { challengeId, destinationKey, payload } = input
    const refusal = this.#sendRefusal(destinationKey, payload.purpose, limits)
    if (refusal) return refusal
    const pointer = `${destinationKey}\0${payload.purpose}`
    const previous = this.#pointers.get(pointer)
    if (previous !== undefined) this.#challenges.delete(previous)
    const { slot, resendAfter } = this.#recordSend(destinationKey, payload.purpose, limits)
    const challenge: StoredChallenge = {
      destinationKey,
      payload: { ...payload },
      codeHash: input.codeHash,
      linkHash: input.linkHash,
      attempts: 0,
      maxAttempts: input.maxAttempts,
      createdAt: this.#now(),
      expiresAt: this.#now() + limits.ttlMs,
      slot
    }
    this.#challenges.set(challengeId, challenge, limits.ttlMs)
    this.#pointers.set(pointer, challengeId, limits.ttlMs)
    return this.#issued(challenge, resendAfter, throttle)
  }

  async resendChallenge (
    challengeId: string, { codeHash, linkHash }: { codeHash: string, linkHash: string }, limits: SendLimits,
    throttle: ThrottleLimits
  ): Promise<ResendResult> {
    const challenge = this.#challenges.get(challengeId)
    if (challenge === undefined) return { outcome: 'expired' }
    const { destinationKey, payload } = challenge
    const refusal = this.#sendRefusal(destinationKey, payload.purpose, limits)
    if (refusal) return refusal
    const { slot, resendAfter } = this.#recordSend(destinationKey, payload.purpose, limits)
    challenge.codeHash = codeHash
    challenge.linkHash = linkHash
    challenge.attempts = 0
    challenge.slot = slot
    challenge.expiresAt = this.#now() + limits.ttlMs
    this.#challenges.set(challengeId, challenge, limits.ttlMs)
    this.#pointers.set(`${destinationKey}\0${payload.purpose}`, challengeId, limits.ttlMs)
    return this.#issued(challenge, resendAfter, throttle)
  }

  async verifyChallenge (
    challengeId: string, purpose: string, codeHashes: readonly string[], throttle: ThrottleLimits
  ): Promise<VerifyResult> {
    const challenge = this.#challenges.get(challengeId)
    if (challenge === undefined || challenge.payload.purpose !== purpose) return { outcome: 'expired' }
    const { destinationKey } = challenge
    const { suspendedMs, waitMs } = this.#throttle.state(destinationKey, throttle)
    if (suspendedMs > 0) return { outcome: 'suspended', retryAfterMs: suspendedMs, payload: { ...challenge.payload } }
    if (waitMs > 0) return { outcome: 'throttled', retryAfterMs: waitMs, payload: { ...challenge.payload } }
    if (codeHashes.includes(challenge.codeHash)) return this.#verified(challengeId, challenge)
    this.#throttle.count(destinationKey, throttle)
    const notify = this.#throttle.fail(destinationKey, throttle)
    challenge.attempts += 1
    const remainingAttempts = challenge.maxAttempts - challenge.attempts
    if (remainingAttempts > 0) return { outcome: 'invalid', remainingAttempts, payload: { ...challenge.payload }, notify }
    this.#delete(challengeId, challenge)
    return { outcome: 'exhausted', payload: { ...challenge.payload }, notify }
  }

  async verifyLink (challengeId: string, purpose: string, linkHash: string): Promise<LinkResult> {
    const challenge = this.#challenges.get(challengeId)
    if (challenge === undefined || challenge.payload.purpose !== purpose || !sameHash(challenge.linkHash, linkHash)) {
      return { outcome: 'expired' }
    }
    return this.#verified(challengeId, challenge)
  }

  /** Single use: the challenge goes, the run of failures ends, and a snapshot lets reinstate undo it. */
  #verified (challengeId: string, challenge: StoredChallenge): Extract<VerifyResult, { outcome: 'verified' }> {
    const snapshot: MemorySnapshot = {
      challenge: copy(challenge), expiresAt: this.#now() + this.#challenges.remainingMs(challengeId)
    }
    // the pointer stays to lapse, so reinstate can tell whether a newer challenge replaced this one
    this.#challenges.delete(challengeId)
    this.#throttle.succeed(challenge.destinationKey)
    return { outcome: 'verified', payload: { ...challenge.payload }, snapshot: snapshot as unknown as ChallengeSnapshot }
  }

  async clearFailures (destinationKey: string): Promise<void> {
    this.#throttle.clear(destinationKey)
  }

  async peekChallenge (challengeId: string): Promise<PendingChallenge | null> {
    const challenge = this.#challenges.get(challengeId)
    return challenge ? { payload: { ...challenge.payload }, expiresAt: challenge.expiresAt } : null
  }

  async withdrawChallenge (challengeId: string): Promise<boolean> {
    const challenge = this.#challenges.get(challengeId)
    if (challenge === undefined) return false
    this.#delete(challengeId, challenge)
    const { destinationKey, payload, slot } = challenge
    this.#cooldowns.delete(`${destinationKey}\0${payload.purpose}`)
    const sends = this.#quotas.get(destinationKey)
    if (sends !== undefined && slot !== null) {
      const index = sends.findIndex((entry) => entry.slot === slot)
      if (index !== -1) sends.splice(index, 1)
    }
    return true
  }

  async reinstateChallenge (challengeId: string, snapshot: ChallengeSnapshot): Promise<boolean> {
    const { challenge, expiresAt } = snapshot as unknown as MemorySnapshot
    const ttlMs = expiresAt - this.#now()
    if (ttlMs <= 0 || this.#challenges.get(challengeId) !== undefined) return false
    const pointer = `${challenge.destinationKey}\0${challenge.payload.purpose}`
    const current = this.#pointers.get(pointer)
    if (current !== undefined && current !== challengeId) return false
    this.#challenges.set(challengeId, copy(challenge), ttlMs)
    this.#pointers.set(pointer, challengeId, ttlMs)
    return true
  }

  async close (): Promise<void> {
    clearInterval(this.#sweeper)
  }
}
