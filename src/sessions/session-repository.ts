import { timingSafeEqual } from 'node:crypto'

/** One login on one device: one refresh-token family, rotated on every refresh. */
export interface Session {
  id: string
  userId: string
  /** the refresh-token family; a session is exactly one family, so this equals id */
  familyId: string
  /**
   * SHA-256 of the current refresh token `<id>.<secret>` (tokens.ts hashRefreshToken); the token itself is never
   * stored. Tokens name their session, so hashes are only ever compared within one session, never looked up.
   */
  tokenHash: string
  /** how the user authenticated, e.g. ['otp', 'email'] */
  amr: string[]
  createdAt: Date
  lastUsedAt: Date
  expiresAt: Date
  revokedAt: Date | null
  userAgent: string | null
  ip: string | null
}

export interface NewSession {
  /** chosen by the caller (tokens.ts newSessionId), who puts it in the first refresh token: 24 hex digits */
  id: string
  userId: string
  tokenHash: string
  amr: string[]
  expiresAt: Date
  userAgent?: string | null
  ip?: string | null
  now: Date
}

export interface Rotation {
  /** the session the presented refresh token names (tokens.ts parseRefreshToken) */
  sessionId: string
  /** hash of the refresh token presented */
  tokenHash: string
  /** hash of the successor the caller will hand out if the rotation wins */
  newHash: string
  now: Date
  /** the session's new expiry (the caller decides whether sessions slide) */
  expiresAt: Date
  graceSeconds: number
}

export type RotateResult =
  | { outcome: 'rotated', session: Session }
  | { outcome: 'reused', session: Session }
  | { outcome: 'invalid' }

/**
 * Sessions and refresh-token rotation with reuse detection. A session is active while not revoked and
 * `now < expiresAt`; every answer is computed from those fields, so correctness never depends on a TTL
 * monitor having deleted expired sessions. All times come from the caller's `now`.
 */
export interface SessionRepository {
  /** Creates indexes; idempotent, call once at start-up. */
  init (): Promise<void>

  /** A new active session (family) with tokenHash as its current refresh token; throws when the id is taken or malformed. */
  create (input: NewSession): Promise<Session>

  /**
   * Rotates the refresh token of session `sessionId` in ONE atomic compare-and-swap, filtered on the session id,
   * the current hash, not revoked and not expired: tokenHash becomes newHash, the old hash joins the family's previous hashes (the last
   * PREVIOUS_HASHES_KEPT), lastUsedAt becomes now and expiresAt the given expiry. Then:
   * The session is found by its id alone, and the presented hash compared with its current and previous ones:
   * - the current hash of an active session → 'rotated' with the updated session (session.tokenHash === newHash);
   * - a previous hash → the token was already used: the whole session is revoked → 'reused' (a thief and the
   *   owner cannot both keep refreshing);
   * - unknown or malformed session id, a hash the session never had, expired or revoked session, or a hash older
   *   than the last PREVIOUS_HASHES_KEPT → 'invalid'.
   * Grace (graceSeconds > 0): a previous hash rotated less than graceSeconds ago is a client's parallel refresh,
   * not theft; it gets 'rotated' with the CURRENT session, unchanged: its tokenHash is the winner's newHash, not
   * necessarily this caller's (compare `session.tokenHash === newHash` to tell). Only hashes are stored, so the
   * successor's token cannot be looked up: to hand every parallel caller the same refresh token, derive the
   * successor from the presented token (e.g. an HMAC of it under a server key), so all of them pass the same newHash.
   * Parallel rotations of one token: exactly one compare-and-swap wins; the others see a previous hash, so with
   * grace 0 they revoke the session (reuse) and with grace they share the winner's session. Never two live chains.
   */
  rotate (input: Rotation): Promise<RotateResult>

  /** Any session, revoked or expired too, until an expired one is purged (TTL); null when unknown or malformed. */
  findById (id: string): Promise<Session | null>

  /** The user's active sessions, most recently used first. */
  listActive (userId: string, now: Date): Promise<Session[]>

  /** Revokes an active session of this user; false when unknown, another user's, or already inactive. */
  revoke (id: string, userId: string, now: Date): Promise<boolean>

  /**
   * Logout with a refresh token: revokes session `sessionId` when it is the user's, active, and tokenHash is its
   * current or a previous hash; false otherwise.
   */
  revokeByTokenHash (sessionId: string, tokenHash: string, userId: string, now: Date): Promise<boolean>

  /** Revokes every active session of the user; returns how many. */
  revokeAll (userId: string, now: Date): Promise<number>

  isActive (id: string, now: Date): Promise<boolean>
}

/** Session ids are ObjectIds in hex, whichever adapter stores them. */
export const isSessionId = (id: string) => /^[0-9a-f]{24}$/.test(id)

/** How many rotated-out hashes a family remembers for reuse detection. */
export const PREVIOUS_HASHES_KEPT = 20

export interface PreviousHash { hash: string, rotatedAt: Date }

/** The decision for a presented hash found among a live session's previous hashes. */
export function previousHashOutcome (previous: PreviousHash, now: Date, graceSeconds: number): 'grace' | 'reused' {
  // no window at all without a grace period: a caller whose clock reading predates the winner's is no exception
  return graceSeconds > 0 && now.getTime() - previous.rotatedAt.getTime() < graceSeconds * 1000 ? 'grace' : 'reused'
}

/** Token hashes compared in constant time: the session id finds the document, this proves the token. */
export function sameHash (a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
