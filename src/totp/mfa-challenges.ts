import { hash } from 'node:crypto'
import { randomBytes } from '../random-bytes.ts'
import type { MfaChallenge, MfaChallengeStore } from './mfa-challenge-store.ts'

/** 32 random bytes in base64url. */
export const MFA_TOKEN_PATTERN = '^[A-Za-z0-9_-]{43}$'

const hashToken = (token: string) => hash('sha256', 'mfa:' + token, 'base64url')

/**
 * The step between a first factor and a session: an opaque, short-lived token that names a pending login.
 * Only its hash is stored; `take` consumes it, so it completes one login at most.
 */
export class MfaChallenges {
  readonly #store: MfaChallengeStore
  readonly ttlSeconds: number
  readonly #now: () => number

  constructor (
    { store, ttlSeconds, now = Date.now }: { store: MfaChallengeStore, ttlSeconds: number, now?: () => number }
  ) {
    this.#store = store
    this.ttlSeconds = ttlSeconds
    this.#now = now
  }

  async issue (challenge: MfaChallenge): Promise<string> {
    const token = randomBytes(32).toString('base64url')
    await this.#store.save(
      hashToken(token), { ...challenge, expiresAt: this.#now() + this.ttlSeconds * 1000 }, this.ttlSeconds * 1000
    )
    return token
  }

  /** Puts a taken challenge back for the rest of its lifetime (a wrong code must not end the login). */
  async giveBack (token: string, challenge: MfaChallenge): Promise<void> {
    const remainingMs = (challenge.expiresAt ?? 0) - this.#now()
    if (remainingMs > 0) await this.#store.save(hashToken(token), challenge, remainingMs)
  }

  find (token: string): Promise<MfaChallenge | null> {
    return this.#store.find(hashToken(token))
  }

  take (token: string): Promise<MfaChallenge | null> {
    return this.#store.take(hashToken(token))
  }
}
