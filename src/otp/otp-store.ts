import type { ThrottleLimits } from '../throttle/throttling.ts'

/**
 * A challenge id is `<bucket>.<random>`: the bucket (4 hex chars of the destination key) is the Redis Cluster
 * hash tag every key of that destination shares, so verify, which only gets the id, stays on one slot.
 * The random part is 16 bytes in base64url. Route schemas validate ids with this pattern.
 */
export const CHALLENGE_ID_PATTERN = '^[0-9a-f]{4}\\.[A-Za-z0-9_-]{22}$'

const challengeIdRegExp = new RegExp(CHALLENGE_ID_PATTERN)
export const isChallengeId = (value: string): boolean => challengeIdRegExp.test(value)

/** What a challenge carries besides its code; stored as given and handed back on verify and resend. */
export interface ChallengePayload {
  purpose: string
  channel: 'email' | 'sms'
  /** the normalised destination: kept in the stored value, never in a key name */
  destination: string
  userId: string | null
  locale: string | null
  /** false for a decoy: stored and counted like a real challenge, never accepted by the caller */
  deliverable: boolean
}

export interface NewChallenge {
  /** matches CHALLENGE_ID_PATTERN; its bucket must be the first 4 chars of destinationKey */
  challengeId: string
  /** HMAC of the normalised destination (hex); every per-destination counter is keyed on it */
  destinationKey: string
  payload: ChallengePayload
  codeHash: string
  /** HMAC of the challenge's sign-in link secret (verifyLink): high entropy, so neither throttled nor counted */
  linkHash: string
  maxAttempts: number
}

export interface SendLimits {
  ttlMs: number
  /**
   * true: this send is neither checked against nor counted in the destination's cooldown and quotas (a destination
   * its caller exempts from them); the code still lapses with ttlMs and wrong codes are still throttled
   */
  exempt?: boolean
  /** per destination and purpose; 0 = none */
  cooldownMs: number
  /** codes per destination within quotaWindowMs (sliding window) */
  quota: number
  quotaWindowMs: number
  /** codes per destination within dailyWindowMs (sliding window), on top of quota */
  dailyQuota: number
  dailyWindowMs: number
}

/** A send refused by a per-destination limit; retryAfterMs > 0. */
export interface SendRefusal { outcome: 'cooldown' | 'quota' | 'daily_quota', retryAfterMs: number }

/** Times are the store's own clock (Redis TIME, or the memory store's injected clock), in epoch ms. */
export interface IssuedCode {
  outcome: 'issued'
  payload: ChallengePayload
  createdAt: number
  expiresAt: number
  resendAfter: number
  /** the destination's code checks are suspended: its code cannot be verified, only its link */
  suspended: boolean
}

export type StartResult = IssuedCode | SendRefusal
export type ResendResult = IssuedCode | SendRefusal | { outcome: 'expired' }
declare const snapshotBrand: unique symbol
/**
 * A verified challenge as it was just before verify deleted it, for `reinstateChallenge`. Opaque: only the
 * adapter that made it reads it, and it holds the code hash, so it is never logged or sent to a client.
 */
export interface ChallengeSnapshot { readonly [snapshotBrand]: true }

/**
 * A refused verify's `notify`: this failure started a throttle wait and no notice went out within the interval,
 * so the owner is to be told now.
 */
export type VerifyResult =
  | { outcome: 'verified', payload: ChallengePayload, snapshot: ChallengeSnapshot }
  | { outcome: 'expired' }
  | { outcome: 'invalid', remainingAttempts: number, payload?: ChallengePayload | undefined, notify: boolean }
  | { outcome: 'exhausted', payload?: ChallengePayload | undefined, notify: boolean }
  | { outcome: 'throttled' | 'suspended', retryAfterMs: number, payload?: ChallengePayload | undefined }

export type LinkResult = Extract<VerifyResult, { outcome: 'verified' | 'expired' }>

/**
 * Where challenges and their per-destination counters live. Every method is atomic (one Lua script on Redis),
 * every entry expires by itself, and expiry is the store's clock, never the caller's.
 *
 * - `startChallenge`: (unless limits.exempt) refused with `cooldown` while the destination+purpose cooldown runs,
 *   `daily_quota` when the destination's daily window is full and `quota` when its short window is full.
 *   A throttled or suspended destination still gets challenges: throttling delays verifications, never sends.
 *   Otherwise stores the challenge (code hash and link hash) for ttlMs, deletes the previous challenge of the same
 *   destination+purpose, (unless limits.exempt) starts the cooldown and takes a quota slot, and answers whether
 *   the destination's code checks are suspended under `throttle` (then only the link can verify it).
 * - `resendChallenge`: an unknown or expired id is `expired`. Same refusals as start; otherwise replaces the code
 *   and link hashes, resets attempts to 0, renews the TTL and (unless limits.exempt) takes a new cooldown and quota
 *   slot; answers the suspension as start does. The destination's failures are untouched.
 * - `verifyChallenge`: unknown, expired or another purpose is `expired` with nothing consumed; a suspended
 *   destination is `suspended`, and one whose throttle wait runs is `throttled`, with the ms left and nothing
 *   checked or consumed. A hash equal to one of codeHashes deletes the challenge (single use), ends the
 *   destination's run of failures and returns its payload and a snapshot (every stored field and its expiry, read
 *   in the same atomic step); the destination+purpose pointer is left to lapse with its TTL, so a later reinstate
 *   can tell whether a newer challenge replaced this one. Otherwise the attempt is counted on the challenge and on
 *   the destination's throttle (src/throttle/throttling.ts: its run, wait, failure log and notice flag); the answer
 *   is `invalid` with the attempts left, or `exhausted` when none are left, and then the challenge is deleted.
 * - `verifyLink`: a link hash equal to the challenge's (and the purpose its own) verifies it as a right code does
 *   (single use, a snapshot, the run ended), whatever the destination's wait or suspension; anything else is
 *   `expired`, nothing counted or consumed.
 * - `clearFailures`: ends the run of failures, the wait and the failure log of a destination (an operator's act,
 *   or a recovery-code sign-in).
 *   `invalid`, `exhausted` and `throttled` hand back the challenge's payload, so the caller knows whose code it was.
 * - `withdrawChallenge`: deletes the challenge, lifts its cooldown and refunds the quota slot its last send took;
 *   false when there was nothing to withdraw.
 * - `reinstateChallenge`: puts a verified challenge back exactly as its snapshot holds it (code hash, attempts,
 *   payload, quota slot) until the expiry it had, and points its destination+purpose at it again; for when the
 *   work after a successful verify failed. Does nothing and answers false when the expiry has passed, the id
 *   exists, or the destination+purpose pointer names another challenge (a newer one was started). Cooldown,
 *   quota, failures and throttling are untouched. The snapshot must come from this store's verify of this id.
 * - `peekChallenge`: the pending challenge's payload and the expiry its current code was issued with (start and
 *   resend return it), or null when there is none; reads only. A delivery worker tells with it whether a queued
 *   code is still the one to send.
 * - `close`: releases what the store itself started (timers); an injected Redis client stays open.
 */
export interface OtpStore {
  startChallenge (challenge: NewChallenge, limits: SendLimits, throttle: ThrottleLimits): Promise<StartResult>
  resendChallenge (
    challengeId: string, hashes: { codeHash: string, linkHash: string }, limits: SendLimits, throttle: ThrottleLimits
  ): Promise<ResendResult>
  verifyChallenge (
    challengeId: string, purpose: string, codeHashes: readonly string[], throttle: ThrottleLimits
  ): Promise<VerifyResult>
  verifyLink (challengeId: string, purpose: string, linkHash: string): Promise<LinkResult>
  clearFailures (destinationKey: string): Promise<void>
  withdrawChallenge (challengeId: string): Promise<boolean>
  reinstateChallenge (challengeId: string, snapshot: ChallengeSnapshot): Promise<boolean>
  peekChallenge (challengeId: string): Promise<PendingChallenge | null>
  close (): Promise<void>
}

export interface PendingChallenge { payload: ChallengePayload, expiresAt: number }
