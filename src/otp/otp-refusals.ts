import { AppError } from '../errors.ts'
import type { ChallengePayload, SendRefusal } from './otp-store.ts'

/** Whole seconds to wait, rounded up: a client retrying after them is never early. */
const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

/** A refused send as its error, with the budget that ran out for RateLimit-Limit: one code per cooldown, or a quota. */
export function sendRefused (
  { outcome, retryAfterMs }: SendRefusal, quotas: { quota: number, dailyQuota: number }
): AppError {
  const retryAfter = retryAfterSeconds(retryAfterMs)
  if (outcome === 'cooldown') return new AppError('cooldown', { retryAfter, limit: 1 })
  if (outcome === 'daily_quota') {
    return new AppError('rate_limited', { retryAfter, limit: quotas.dailyQuota, detail: 'Too many codes were sent to this destination today; try again later' })
  }
  return new AppError('rate_limited', { retryAfter, limit: quotas.quota, detail: 'Too many codes were sent to this destination; try again later' })
}

/** A verification refused while the destination's throttle wait runs. */
export const throttled = (retryAfterMs: number) => new AppError('rate_limited', {
  retryAfter: retryAfterSeconds(retryAfterMs),
  detail: 'Too many wrong codes for this destination; wait before trying again'
})

/** A verification refused while the destination's code checks are suspended: the link still signs in. */
export const codesSuspended = (retryAfterMs: number) => new AppError('login_suspended', {
  retryAfter: retryAfterSeconds(retryAfterMs),
  detail: 'Too many wrong codes were entered for this identifier today: codes cannot be checked for now. Ask for a new one: it comes as a sign-in link.'
})

const CHALLENGE = Symbol('challenge')

/** Tags a refused verify's error with whose challenge it was (not enumerable: never logged nor sent). */
export function aboutChallenge (error: AppError, payload: ChallengePayload | undefined): AppError {
  if (payload !== undefined) Object.defineProperty(error, CHALLENGE, { value: payload, enumerable: false })
  return error
}

/** The challenge a refused verify was about (invalid_code, too_many_attempts, a throttle wait), for the audit log. */
export const challengeOf = (error: unknown): ChallengePayload | null =>
  (error as { [CHALLENGE]?: ChallengePayload } | null)?.[CHALLENGE] ?? null
