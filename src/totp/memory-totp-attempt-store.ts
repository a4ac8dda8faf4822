import { ExpiringMap } from '../otp/expiring-map.ts'
import { throttleDelayMs } from '../throttling.ts'
import type { AttemptStart, TotpAttemptStore, TotpThrottleLimits } from './totp-attempt-store.ts'

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
  readonly #runs: ExpiringMap<number>
  readonly #waits: ExpiringMap<true>
  readonly #notices: ExpiringMap<true>
  readonly #suspended = new Set<string>()
  readonly #steps: ExpiringMap<number>
  readonly #sweeper: NodeJS.Timeout

  constructor ({ now = Date.now, sweepIntervalMs = 60_000 }: MemoryTotpAttemptStoreOptions = {}) {
    this.#runs = new ExpiringMap(now)
    this.#waits = new ExpiringMap(now)
    this.#notices = new ExpiringMap(now)
    this.#steps = new ExpiringMap(now)
    const maps = [this.#runs, this.#waits, this.#notices, this.#steps]
    this.#sweeper = setInterval(() => { for (const map of maps) map.sweep() }, sweepIntervalMs).unref()
  }

  async beginAttempt (subject: string, limits: TotpThrottleLimits): Promise<AttemptStart> {
    if (this.#suspended.has(subject)) return { outcome: 'suspended' }
    const waiting = this.#waits.remainingMs(subject)
    if (waiting > 0) return { outcome: 'throttled', retryAfterMs: waiting }
    const run = (this.#runs.get(subject) ?? 0) + 1
    this.#runs.set(subject, run, limits.memoryMs)
    const delayMs = throttleDelayMs(run, limits)
    if (delayMs > 0) this.#waits.set(subject, true, delayMs)
    return { outcome: 'allowed' }
  }

  async failAttempt (subject: string, limits: TotpThrottleLimits): Promise<boolean> {
    const run = this.#runs.get(subject) ?? 0
    if (run >= limits.suspendAfter) this.#suspended.add(subject)
    if (run <= limits.freeFailures || this.#notices.remainingMs(subject) > 0) return false
    this.#notices.set(subject, true, limits.noticeIntervalMs)
    return true
  }

  async succeedAttempt (subject: string): Promise<void> {
    this.#runs.delete(subject)
    this.#waits.delete(subject)
  }

  async forgiveAttempt (subject: string): Promise<void> {
    const run = this.#runs.get(subject)
    if (run !== undefined && run > 0) this.#runs.set(subject, run - 1, this.#runs.remainingMs(subject))
  }

  async clearFailures (subject: string): Promise<void> {
    for (const map of [this.#runs, this.#waits, this.#notices]) map.delete(subject)
    this.#suspended.delete(subject)
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
