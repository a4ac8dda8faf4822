import { ExpiringMap } from '../otp/expiring-map.ts'
import type { MfaChallenge, MfaChallengeStore } from './mfa-challenge-store.ts'

/** The MfaChallengeStore contract in process memory; synchronous, so atomic for this process. */
export class MemoryMfaChallengeStore implements MfaChallengeStore {
  readonly #challenges: ExpiringMap<MfaChallenge>
  readonly #sweeper: NodeJS.Timeout

  /** `now`: epoch ms; tests inject a clock they move by hand */
  constructor ({ now = Date.now, sweepIntervalMs = 60_000 }: { now?: () => number, sweepIntervalMs?: number } = {}) {
    this.#challenges = new ExpiringMap(now)
    this.#sweeper = setInterval(() => this.#challenges.sweep(), sweepIntervalMs).unref()
  }

  async save (tokenHash: string, challenge: MfaChallenge, ttlMs: number): Promise<void> {
    this.#challenges.set(tokenHash, structuredClone(challenge), ttlMs)
  }

  async find (tokenHash: string): Promise<MfaChallenge | null> {
    const challenge = this.#challenges.get(tokenHash)
    return challenge === undefined ? null : structuredClone(challenge)
  }

  async take (tokenHash: string): Promise<MfaChallenge | null> {
    const challenge = this.#challenges.get(tokenHash)
    if (challenge === undefined) return null
    this.#challenges.delete(tokenHash)
    return challenge
  }

  async close (): Promise<void> {
    clearInterval(this.#sweeper)
  }
}
