/** What the revocation state says of an access token. */
export type RevocationVerdict = 'live' | 'revoked' | 'undecided'

/**
 * Revocation state of access tokens, so authenticating a request costs one Redis round trip and no database
 * read. Two kinds of entry, each kept for `ttlSeconds` (the access-token lifetime: after it every token it could
 * concern has expired anyway):
 * - a session ended (logout, session ended, refresh-token reuse): its tokens are revoked;
 * - a user's "not before" time (logout everywhere, account disabled): tokens issued before it are revoked.
 *
 * `check` reads both in one round trip. Token `iat` has whole seconds, so a token issued in the very second of
 * the user's "not before" time cannot be placed before or after it: 'undecided', and the caller asks the
 * session store (rare: only in that second). Entries are never the only record: sessions are revoked in MongoDB
 * too, which refresh checks, so a lost entry exposes at most one access-token lifetime.
 */
export interface RevocationStore {
  revokeSession (userId: string, sessionId: string, ttlSeconds: number): Promise<void>
  revokeUserBefore (userId: string, at: Date, ttlSeconds: number): Promise<void>
  check (userId: string, sessionId: string, issuedAtSeconds: number): Promise<RevocationVerdict>
  close? (): Promise<void>
}

/** The verdict from what was read: whether the session is ended, and the user's "not before" time in ms. */
export function revocationVerdict (
  sessionEnded: boolean, notBeforeMs: number | null, issuedAtSeconds: number
): RevocationVerdict {
  if (sessionEnded) return 'revoked'
  if (notBeforeMs === null) return 'live'
  const notBeforeSeconds = Math.floor(notBeforeMs / 1000)
  if (issuedAtSeconds < notBeforeSeconds) return 'revoked'
  return issuedAtSeconds === notBeforeSeconds ? 'undecided' : 'live'
}
