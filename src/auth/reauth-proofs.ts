import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto'
import { secretKey } from '../sessions/tokens.ts'

export interface ReauthProof {
  reauthToken: string
  /** seconds */
  expiresIn: number
}

const PROOF = /^(\d{1,12})\.([\w-]{43})$/

/**
 * Proofs that the user of a session just showed a code sent to an identifier the account has (a step-up):
 * `<expiry, epoch seconds>.<HMAC-SHA256 of user, session and expiry under a server key>`, base64url. Stateless and
 * bound to the session that earned it, so a copy is no use with another session's token; reusable until it expires,
 * as a sign-in that recent would be.
 */
export class ReauthProofs {
  readonly #key: KeyObject
  readonly #ttlSeconds: number
  readonly #now: () => Date

  constructor ({ key, ttlSeconds, now }: { key: KeyObject, ttlSeconds: number, now: () => Date }) {
    this.#key = key
    this.#ttlSeconds = ttlSeconds
    this.#now = now
  }

  issue (userId: string, sessionId: string): ReauthProof {
    const expiresAt = this.#nowSeconds() + this.#ttlSeconds
    return { reauthToken: `${expiresAt}.${this.#tag(userId, sessionId, expiresAt).toString('base64url')}`, expiresIn: this.#ttlSeconds }
  }

  /** Whether `token` is a live proof for this user's session. */
  isValid (token: string, userId: string, sessionId: string): boolean {
    const match = PROOF.exec(token)
    if (match === null) return false
    const expiresAt = Number(match[1])
    const tag = Buffer.from(match[2] ?? '', 'base64url')
    const expected = this.#tag(userId, sessionId, expiresAt)
    return tag.length === expected.length && timingSafeEqual(tag, expected) && expiresAt > this.#nowSeconds()
  }

  #tag (userId: string, sessionId: string, expiresAt: number): Buffer {
    return createHmac('sha256', this.#key).update(`reauth.${userId}.${sessionId}.${expiresAt}`).digest()
  }

  #nowSeconds (): number {
    return Math.floor(this.#now().getTime() / 1000)
  }
}

/** The proof key, derived from the refresh-token key so that it is shared by every instance that shares that one. */
export const reauthProofKey = (refreshTokenKey: KeyObject): KeyObject =>
  secretKey(createHmac('sha256', refreshTokenKey).update('otp-gate reauthentication proof key'))
