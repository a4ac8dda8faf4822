import type { Config } from '../config.ts'
import { throttleLimits, type ThrottleLimits } from '../throttle/throttling.ts'
import type { SendLimits } from './otp-store.ts'

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
  /** wrong codes within a day that suspend the destination's code checks for the rest of that day */
  suspendAfterFailures: number
}

const DAY_MS = 86_400_000
const ms = (seconds: number) => Math.round(seconds * 1000)

export function assertPolicy (policy: OtpPolicy): void {
  const positive = [
    'codeLength', 'ttlSeconds', 'maxAttempts', 'quota', 'quotaWindowSeconds', 'dailyQuota', 'throttleMaxSeconds', 'suspendAfterFailures'
  ] as const
  for (const name of positive) if (!(policy[name] > 0)) throw new Error(`OTP policy ${name} must be positive`)
  if (!(policy.cooldownSeconds >= 0)) throw new Error('OTP policy cooldownSeconds must not be negative')
  if (!(policy.throttleAfterFailures >= 0)) throw new Error('OTP policy throttleAfterFailures must not be negative')
  if (!Number.isInteger(policy.codeLength) || policy.codeLength > 15) throw new Error('OTP policy codeLength must be an integer up to 15')
}

/** The per-destination send limits of the policy, as the store takes them. */
export function sendLimitsOf (policy: OtpPolicy): SendLimits {
  return {
    ttlMs: ms(policy.ttlSeconds),
    cooldownMs: ms(policy.cooldownSeconds),
    quota: policy.quota,
    quotaWindowMs: ms(policy.quotaWindowSeconds),
    dailyQuota: policy.dailyQuota,
    dailyWindowMs: DAY_MS
  }
}

/** The policy's throttle of wrong codes per destination (src/throttle/throttling.ts). */
export function throttleLimitsOf (policy: OtpPolicy): ThrottleLimits {
  return throttleLimits({
    freeFailures: policy.throttleAfterFailures,
    maxDelayMs: ms(policy.throttleMaxSeconds),
    suspendAfter: policy.suspendAfterFailures
  })
}

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
