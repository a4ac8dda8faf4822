import { readFileSync } from 'node:fs'
import type { ThrottleLimits } from '../../throttle/throttling.ts'
import { BACKOFF_LUA } from './backoff.ts'

/**
 * Lua functions (throttle_keys, throttle_limits, throttle_state, throttle_count, throttle_fail, throttle_succeed,
 * throttle_forgive) that the OTP and TOTP Redis stores prepend to the scripts that throttle wrong codes: the rule
 * of src/throttle/throttling.ts, once.
 */
export const FAILURE_THROTTLE_LUA = BACKOFF_LUA + readFileSync(new URL('./failure-throttle.lua', import.meta.url), 'utf8')

/** The ARGV values a script reads with throttle_limits, in its order. */
export const throttleArgs = (
  { freeFailures, baseDelayMs, maxDelayMs, suspendAfter, memoryMs, noticeIntervalMs }: ThrottleLimits
): number[] => [freeFailures, baseDelayMs, maxDelayMs, suspendAfter, memoryMs, noticeIntervalMs]
