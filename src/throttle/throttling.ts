import { backoffMs } from './backoff.ts'
import { ExpiringMap } from '../otp/expiring-map.ts'

/**
 * Growing throttling of wrong codes (NIST SP 800-63B rev 4, 3.2.2), one rule for one-time codes (per destination)
 * and authenticator apps (per subject): a hard lockout would let anyone lock a stranger out, and clearing a lock's
 * count would let guessing go on for ever. Instead each failure past the free ones makes the next check wait
 * longer (at most maxDelayMs), and suspendAfter failures within a sliding window (a day) suspend code checks until
 * the oldest of them leaves the window: at most suspendAfter wrong codes per subject per window, and no suspension
 * lasts for ever. A success ends the run and its wait, never the window's count.
 * FailureThrottle below is the rule in memory; src/stores/redis-lua/failure-throttle.lua is the same rule on Redis, and
 * test/contract/failure-throttle.ts holds every adapter of both ports to the same answers.
 */

/** The first throttled failure waits this long; each further one doubles it, up to the configured cap. */
export const THROTTLE_BASE_DELAY_MS = 1000
/** A run of wrong codes is forgotten this long after its last failure. */
export const FAILURE_MEMORY_MS = 30 * 86_400_000
/** At most one throttle notice to the owner within this. */
export const THROTTLE_NOTICE_INTERVAL_MS = 3_600_000
/** suspendAfter failures within this suspend a subject: the bound on wrong codes per subject and day. */
export const SUSPEND_WINDOW_MS = 86_400_000

/**
 * The first `freeFailures` consecutive failures cost nothing; each one after makes the subject wait `baseDelayMs`,
 * doubling up to `maxDelayMs` (src/throttle/backoff.ts), before its next check. A success ends the run.
 * `suspendAfter` failures within `suspendWindowMs` (successes or not) suspend the subject until the oldest of them
 * is older than the window, or its failures are cleared.
 */
export interface ThrottleLimits {
  freeFailures: number
  baseDelayMs: number
  maxDelayMs: number
  suspendAfter: number
  /** how long a run of failures is remembered after its last failure */
  memoryMs: number
  /** at most one throttle notice per subject within this */
  noticeIntervalMs: number
  /** the sliding window in which suspendAfter failures suspend */
  suspendWindowMs: number
}

/** A configured run's limits, with the wait's base, the failure memory and the notice interval every run shares. */
export function throttleLimits (run: Pick<ThrottleLimits, 'freeFailures' | 'maxDelayMs' | 'suspendAfter'>): ThrottleLimits {
  return {
    ...run,
    baseDelayMs: THROTTLE_BASE_DELAY_MS,
    memoryMs: FAILURE_MEMORY_MS,
    noticeIntervalMs: THROTTLE_NOTICE_INTERVAL_MS,
    suspendWindowMs: SUSPEND_WINDOW_MS
  }
}

export interface ThrottleState {
  suspended: boolean
  /** ms left of the subject's suspension; 0 when it is not suspended */
  suspendedMs: number
  /** ms left of the subject's wait; 0 when none runs */
  waitMs: number
}

/**
 * The failure throttle in process memory, for the memory adapters: per subject a run of consecutive failures, a
 * wait, a log of the failures of the suspension window and the last notice, on the injected clock. Each method
 * mirrors the Lua function of the same name in src/stores/redis-lua/failure-throttle.lua.
 */
export class FailureThrottle {
  readonly #now: () => number
  readonly #runs: ExpiringMap<number>
  readonly #waits: ExpiringMap<true>
  readonly #notices: ExpiringMap<true>
  /** failure times, oldest first */
  readonly #logs: ExpiringMap<number[]>

  constructor (now: () => number) {
    this.#now = now
    this.#runs = new ExpiringMap(now)
    this.#waits = new ExpiringMap(now)
    this.#notices = new ExpiringMap(now)
    this.#logs = new ExpiringMap(now)
  }

  #log (subject: string, windowMs: number): number[] {
    const cutoff = this.#now() - windowMs
    return (this.#logs.get(subject) ?? []).filter((at) => at > cutoff)
  }

  state (subject: string, limits: ThrottleLimits): ThrottleState {
    const log = this.#log(subject, limits.suspendWindowMs)
    const freeing = log[log.length - limits.suspendAfter]
    const suspendedMs = freeing === undefined ? 0 : freeing + limits.suspendWindowMs - this.#now()
    return { suspended: suspendedMs > 0, suspendedMs, waitMs: this.#waits.remainingMs(subject) }
  }

  /** The run grows by one and, past the free failures, starts the next wait; the failure joins the log. */
  count (subject: string, limits: ThrottleLimits): number {
    const run = (this.#runs.get(subject) ?? 0) + 1
    this.#runs.set(subject, run, limits.memoryMs)
    this.#logs.set(subject, [...this.#log(subject, limits.suspendWindowMs), this.#now()], limits.suspendWindowMs)
    const waitMs = backoffMs(run - limits.freeFailures, { baseMs: limits.baseDelayMs, maxMs: limits.maxDelayMs })
    if (waitMs > 0) this.#waits.set(subject, true, waitMs)
    return run
  }

  /**
   * A counted attempt failed. True when the owner is to hear of the throttling now: the run is past its free
   * failures, and no notice went out within noticeIntervalMs.
   */
  fail (subject: string, limits: ThrottleLimits): boolean {
    const run = this.#runs.get(subject) ?? 0
    if (run <= limits.freeFailures || this.#notices.remainingMs(subject) > 0) return false
    this.#notices.set(subject, true, limits.noticeIntervalMs)
    return true
  }

  /** A success ends the run and its wait; the log stays. */
  succeed (subject: string): void {
    this.#runs.delete(subject)
    this.#waits.delete(subject)
  }

  /** An attempt that failed on our side does not count. */
  forgive (subject: string): void {
    const run = this.#runs.get(subject)
    if (run !== undefined && run > 0) this.#runs.set(subject, run - 1, this.#runs.remainingMs(subject))
    const log = this.#logs.get(subject)
    if (log !== undefined && log.length > 0) this.#logs.set(subject, log.slice(0, -1), this.#logs.remainingMs(subject))
  }

  /** Ends the run, the wait, the notice interval and the log (a recovery code, or an operator). */
  clear (subject: string): void {
    for (const map of [this.#runs, this.#waits, this.#notices, this.#logs]) map.delete(subject)
  }

  /** Drops lapsed entries for good; reads never see them anyway. */
  sweep (): void {
    for (const map of [this.#runs, this.#waits, this.#notices, this.#logs]) map.sweep()
  }

  /** entries held, lapsed ones not yet swept included */
  get size (): number {
    return this.#runs.size + this.#waits.size + this.#notices.size + this.#logs.size
  }
}
