import { ExpiringMap } from '../otp/expiring-map.ts'
import { FailureThrottle, type ThrottleLimits } from '../throttle/throttling.ts'
import type { AttemptStart, TotpAttemptStore } from './totp-attempt-store.ts'

export interface MemoryTotpAttemptStoreOptions {
  /** epoch ms; tests inject a clock they move by hand */
  now?: () => number
  sweepIntervalMs?: number
}

/**
 * The TotpAttemptStore contract (see totp-attempt-store.ts) in process memory, for the embedded mode and tests.
 * Each method works synchronously, so it is atomic for this process; nothing is shared between workers.
 */
export class MemoryTotpAttemptStore implements TotpAttemptStore {
  readonly #throttle: FailureThrottle
  readonly #steps: ExpiringMap<number>
  readonly #sweeper: NodeJS.Timeout

  constructor ({ now = Date.now, sweepIntervalMs = 60_000 }: MemoryTotpAttemptStoreOptions = {}) {
    this.#throttle = new FailureThrottle(now)
    this.#steps = new ExpiringMap(now)
    const maps = [this.#throttle, this.#steps]
    this.#sweeper = setInterval(() => { for (const map of maps) map.sweep() }, sweepIntervalMs).unref()
  }

  async beginAttempt (subject: string, limits: ThrottleLimits): Promise<AttemptStart> {
    const { suspendedMs, waitMs } = this.#throttle.state(subject, limits)
    if (suspendedMs > 0) return { outcome: 'suspended', retryAfterMs: suspendedMs }
    if (waitMs > 0) return { outcome: 'throttled', retryAfterMs: waitMs }
    this.#throttle.count(subject, limits)
    return { outcome: 'allowed' }
  }

  async suspendedMs (subject: string, limits: ThrottleLimits): Promise<number> {
    return this.#throttle.state(subject, limits).suspendedMs
  }

  async failAttempt (subject: string, limits: ThrottleLimits): Promise<boolean> {
    return this.#throttle.fail(subject, limits)
  }

  async succeedAttempt (subject: string): Promise<void> {
    // beginAttempt logged the attempt as a failure: a success takes it back out
    this.#throttle.forgive(subject)
    this.#throttle.succeed(subject)
  }

  async forgiveAttempt (subject: string): Promise<void> {
    this.#throttle.forgive(subject)
  }

  async clearFailures (subject: string): Promise<void> {
    this.#throttle.clear(subject)
  }

  async claimStep (userId: string, step: number, ttlMs: number): Promise<boolean> {
    const last = this.#steps.get(userId)
    if (last !== undefined && last >= step) return false
    this.#steps.set(userId, step, ttlMs)
    return true
  }

  async close (): Promise<void> {
    clearInterval(this.#sweeper)
  }
}
