import { createHash, randomBytes } from 'node:crypto'
import type { MfaChallenge, MfaChallengeStore } from './mfa-challenge-store.ts'

/** 32 random bytes in base64url. */
export const MFA_TOKEN_PATTERN = '^[A-Za-z0-9_-]{43}$'

const hashToken = (token: string) => createHash('sha256').update('mfa:' + token).digest('base64url')

/**
 * The step between a first factor and a session: an opaque, short-lived token that names a pending login.
 * Only its hash is stored; `take` consumes it, so it completes one login at most.
 */
export class MfaChallenges {
  readonly #store: MfaChallengeStore
  readonly ttlSeconds: number

  constructor ({ store, ttlSeconds }: { store: MfaChallengeStore, ttlSeconds: number }) {
    this.#store = store
    this.ttlSeconds = ttlSeconds
  }

  async issue (challenge: MfaChallenge): Promise<string> {
    const token = randomBytes(32).toString('base64url')
    await this.#store.save(hashToken(token), challenge, this.ttlSeconds * 1000)
    return token
  }

  find (token: string): Promise<MfaChallenge | null> {
    return this.#store.find(hashToken(token))
  }

  take (token: string): Promise<MfaChallenge | null> {
    return this.#store.take(hashToken(token))
  }
}
