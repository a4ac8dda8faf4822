import { timingSafeEqual } from 'node:crypto'

/** One login on one device: one refresh-token family, rotated on every refresh. */
export interface Session {
  id: string
  userId: string
  /**
   * SHA-256 of the current refresh token `<id>.<generation>.<nonce ‖ tag>` (tokens.ts); the token itself is never
   * stored. Tokens name their session, so hashes are only ever compared within one session, never looked up.
   */
  tokenHash: string
  /** how many times the session was refreshed: the generation of its current refresh token */
  generation: number
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
  /** the generation the presented token names; its tag proved we issued it */
  generation: number
  /** hash of the refresh token presented */
  tokenHash: string
  /**
   * hash of the successor (generation + 1) the caller hands out if the rotation wins; derived from the presented
   * token (tokens.ts successorRefreshToken), so parallel callers pass the same one
   */
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

  /**
   * A new active session (family) with tokenHash as its current refresh token; throws when the id is taken or
   * malformed.
   */
  create (input: NewSession): Promise<Session>

  /**
   * Rotates the refresh token of session `sessionId` in ONE atomic compare-and-swap, filtered on the session id,
   * the presented generation and hash, not revoked and not expired: tokenHash becomes newHash, the generation
   * goes up by one, lastUsedAt becomes now and expiresAt the given expiry. Then, the session found by its id alone:
   * - the current generation and hash of an active session → 'rotated' with the updated session
   *   (session.tokenHash === newHash);
   * - an earlier generation → the token was already used, however long ago: the whole session is revoked →
   *   'reused' (a thief and the owner cannot both keep refreshing);
   * - unknown or malformed session id, the current generation with another hash, a later generation, an expired
   *   or revoked session → 'invalid'.
   * Grace (graceSeconds > 0): the generation just before the current one, whose successor is newHash (the
   * current hash) and was stored less than graceSeconds ago, is a client's parallel refresh, not theft: it gets
   * 'rotated' with the CURRENT session, unchanged, so the caller hands out the same successor again.
   * Parallel rotations of one token: exactly one compare-and-swap wins; the others see an earlier generation, so
   * with grace 0 they revoke the session (reuse) and with grace they share the winner's successor. Never two live
   * chains.
   */
  rotate (input: Rotation): Promise<RotateResult>

  /** Any session, revoked or expired too, until an expired one is purged (TTL); null when unknown or malformed. */
  findById (id: string): Promise<Session | null>

  /** The user's active sessions, most recently used first. */
  listActive (userId: string, now: Date): Promise<Session[]>

  /** Revokes an active session of this user; false when unknown, another user's, or already inactive. */
  revoke (id: string, userId: string, now: Date): Promise<boolean>

  /**
   * Logout with a refresh token: revokes session `sessionId` when it is the user's, active, and the token is its
   * current one (generation and hash) or of an earlier generation; false otherwise.
   */
  revokeByToken (
    token: { sessionId: string, generation: number, tokenHash: string }, userId: string, now: Date
  ): Promise<boolean>

  /** Revokes every active session of the user; returns how many. */
  revokeAll (userId: string, now: Date): Promise<number>

  /** Deletes every session of the user, live or not (an account's erasure); returns how many. */
  deleteByUser (userId: string): Promise<number>

  isActive (id: string, now: Date): Promise<boolean>
}

/** Session ids are ObjectIds in hex, whichever adapter stores them. */
export const isSessionId = (id: string) => /^[0-9a-f]{24}$/.test(id)

/** What a live session says of a rotation whose generation and hash are not its current ones. */
export function staleRotationOutcome (current: Pick<Session, 'generation' | 'tokenHash' | 'lastUsedAt'>, rotation: Rotation): 'grace' | 'reused' | 'invalid' {
  const { generation, newHash, now, graceSeconds } = rotation
  if (generation >= current.generation) return 'invalid'
  // no window at all without a grace period: a caller whose clock reading predates the winner's is no exception
  const inGrace = graceSeconds > 0 && generation === current.generation - 1 && sameHash(current.tokenHash, newHash) &&
    now.getTime() - current.lastUsedAt.getTime() < graceSeconds * 1000
  return inGrace ? 'grace' : 'reused'
}

/** Token hashes compared in constant time: the session id finds the document, this proves the token. */
export function sameHash (a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
