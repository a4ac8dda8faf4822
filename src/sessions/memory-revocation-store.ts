import { ExpiringMap } from '../otp/expiring-map.ts'
import { revocationVerdict, type RevocationStore, type RevocationVerdict } from './revocation-store.ts'

/** RevocationStore in process memory, for the embedded mode; entries lapse on the injected clock. */
export class MemoryRevocationStore implements RevocationStore {
  readonly #sessions: ExpiringMap<true>
  readonly #users: ExpiringMap<number>
  #writes = 0

  constructor ({ now }: { now: () => number }) {
    this.#sessions = new ExpiringMap(now)
    this.#users = new ExpiringMap(now)
  }

  async revokeSession (_userId: string, sessionId: string, ttlSeconds: number): Promise<void> {
    this.#sessions.set(sessionId, true, ttlSeconds * 1000)
    this.#sweepNowAndThen()
  }

  async revokeUserBefore (userId: string, at: Date, ttlSeconds: number): Promise<void> {
    this.#users.set(userId, at.getTime(), ttlSeconds * 1000)
    this.#sweepNowAndThen()
  }

  async check (userId: string, sessionId: string, issuedAtSeconds: number): Promise<RevocationVerdict> {
    return revocationVerdict(this.#sessions.get(sessionId) === true, this.#users.get(userId) ?? null, issuedAtSeconds)
  }

  /** memory stays bounded by what the last lifetime revoked */
  #sweepNowAndThen (): void {
    if (++this.#writes % 1000 !== 0) return
    this.#sessions.sweep()
    this.#users.sweep()
  }
}
