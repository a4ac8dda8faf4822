import { randomBytes } from 'node:crypto'
import { ExpiringMap } from '../otp/expiring-map.ts'
import type { AttemptStart, LockoutLimits, TotpAttemptStore } from './totp-attempt-store.ts'

/** Sliding window log, oldest first. */
type AttemptLog = Array<{ slot: string, at: number }>

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
  readonly #now: () => number
  readonly #attempts: ExpiringMap<AttemptLog>
  readonly #locks: ExpiringMap<true>
  readonly #steps: ExpiringMap<number>
  readonly #sweeper: NodeJS.Timeout

  constructor ({ now = Date.now, sweepIntervalMs = 60_000 }: MemoryTotpAttemptStoreOptions = {}) {
    this.#now = now
    this.#attempts = new ExpiringMap(now)
    this.#locks = new ExpiringMap(now)
    this.#steps = new ExpiringMap(now)
    this.#sweeper = setInterval(() => {
      for (const map of [this.#attempts, this.#locks, this.#steps]) map.sweep()
    }, sweepIntervalMs).unref()
  }

  #window (subject: string, windowMs: number): AttemptLog {
    const cutoff = this.#now() - windowMs
    return (this.#attempts.get(subject) ?? []).filter((entry) => entry.at > cutoff)
  }

  async beginAttempt (subject: string, limits: LockoutLimits): Promise<AttemptStart> {
    const locked = this.#locks.remainingMs(subject)
    if (locked > 0) return { outcome: 'locked', retryAfterMs: locked }
    const log = this.#window(subject, limits.windowMs)
    const oldest = log[log.length - limits.threshold]
    if (oldest !== undefined) return { outcome: 'locked', retryAfterMs: Math.max(1, oldest.at + limits.windowMs - this.#now()) }
    const slot = randomBytes(9).toString('base64url')
    this.#attempts.set(subject, [...log, { slot, at: this.#now() }], limits.windowMs)
    return { outcome: 'allowed', slot }
  }

  async failAttempt (subject: string, slot: string, limits: LockoutLimits): Promise<number> {
    const log = [...this.#window(subject, limits.windowMs).filter((entry) => entry.slot !== slot), { slot, at: this.#now() }]
    if (log.length >= limits.threshold) {
      this.#locks.set(subject, true, limits.lockoutMs)
      this.#attempts.delete(subject)
      return limits.lockoutMs
    }
    this.#attempts.set(subject, log, limits.windowMs)
    return 0
  }

  async forgiveAttempt (subject: string, slot: string): Promise<void> {
    const log = this.#attempts.get(subject)
    const index = log?.findIndex((entry) => entry.slot === slot) ?? -1
    if (index !== -1) log!.splice(index, 1)
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
