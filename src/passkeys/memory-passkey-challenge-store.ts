import { ExpiringMap } from '../otp/expiring-map.ts'
import type { PasskeyChallengeStore, PendingPasskeyChallenge } from './passkey-challenge-store.ts'

/** The PasskeyChallengeStore contract in process memory; synchronous, so atomic for this process. */
export class MemoryPasskeyChallengeStore implements PasskeyChallengeStore {
  readonly #challenges: ExpiringMap<PendingPasskeyChallenge>
  readonly #sweeper: NodeJS.Timeout

  /** `now`: epoch ms; tests inject a clock they move by hand */
  constructor ({ now = Date.now, sweepIntervalMs = 60_000 }: { now?: () => number, sweepIntervalMs?: number } = {}) {
    this.#challenges = new ExpiringMap(now)
    this.#sweeper = setInterval(() => this.#challenges.sweep(), sweepIntervalMs).unref()
  }

  async save (challenge: string, pending: PendingPasskeyChallenge, ttlMs: number): Promise<void> {
    this.#challenges.set(challenge, structuredClone(pending), ttlMs)
  }

  async take (challenge: string): Promise<PendingPasskeyChallenge | null> {
    const pending = this.#challenges.get(challenge)
    if (pending === undefined) return null
    this.#challenges.delete(challenge)
    return pending
  }

  async close (): Promise<void> {
    clearInterval(this.#sweeper)
  }
}
