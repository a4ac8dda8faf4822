import { backoffMs } from './backoff.ts'

/**
 * Growing throttling of wrong codes (NIST SP 800-63B rev 4, 3.2.2), shared by one-time codes and authenticator
 * apps: a hard lockout would let anyone lock a stranger out, and clearing a lock's count would let guessing go on
 * for ever. Instead each failure past the free ones makes the next check wait longer, and a long enough run of
 * failures suspends code logins until a recovery code or an operator ends it.
 */

/** The first throttled failure waits this long; each further one doubles it, up to the configured cap. */
export const THROTTLE_BASE_DELAY_MS = 1000
/** A run of wrong codes is forgotten this long after its last failure. */
export const FAILURE_MEMORY_MS = 30 * 86_400_000
/** At most one throttle notice to the owner within this. */
export const THROTTLE_NOTICE_INTERVAL_MS = 3_600_000

export interface ThrottleSteps {
  /** consecutive failures answered without a wait */
  freeFailures: number
  baseDelayMs: number
  maxDelayMs: number
}

/** The wait after the `failures`-th consecutive failure: 0 for the free ones, then doubling up to the cap. */
export function throttleDelayMs (failures: number, limits: ThrottleSteps): number {
  return backoffMs(failures - limits.freeFailures, { baseMs: limits.baseDelayMs, maxMs: limits.maxDelayMs })
}
