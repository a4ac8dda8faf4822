import { readFileSync } from 'node:fs'
import { randomBytes } from '../../random-bytes.ts'
import type { ThrottleLimits } from '../../throttle/throttling.ts'
import { BACKOFF_LUA } from './backoff.ts'
import { SLIDING_WINDOW_LUA } from './sliding-window.ts'

/**
 * Lua functions (throttle_keys, throttle_clock, throttle_limits, throttle_state, throttle_count, throttle_fail,
 * throttle_succeed, throttle_forgive) that the OTP and TOTP Redis stores prepend to the scripts that throttle wrong
 * codes: the rule of src/throttle/throttling.ts, once. Includes the sliding window functions: a script that has
 * them already takes FAILURE_THROTTLE_ONLY_LUA.
 */
export const FAILURE_THROTTLE_ONLY_LUA = BACKOFF_LUA + readFileSync(new URL('./failure-throttle.lua', import.meta.url), 'utf8')
export const FAILURE_THROTTLE_LUA = SLIDING_WINDOW_LUA + FAILURE_THROTTLE_ONLY_LUA

/** The ARGV values a script reads with throttle_limits, in its order; the last names this attempt in the log. */
export const throttleArgs = (
  { freeFailures, baseDelayMs, maxDelayMs, suspendAfter, memoryMs, noticeIntervalMs, suspendWindowMs }: ThrottleLimits
): Array<number | string> =>
  [freeFailures, baseDelayMs, maxDelayMs, suspendAfter, memoryMs, noticeIntervalMs, suspendWindowMs, randomBytes(9).toString('base64url')]
