/** A login that passed its first factor and waits for the second. */
export interface MfaChallenge {
  userId: string
  /** the identifier kind the first factor proved, recorded as the login's kind once complete */
  kind: 'email' | 'phone'
  /** methods of the first factor, e.g. ['otp'] */
  amr: string[]
  /** code logins of the identifier are suspended: only a recovery code completes this login (and lifts that) */
  recoveryOnly?: boolean
  /** when the challenge lapses (ms since the epoch), so a taken one can be put back for what is left of it */
  expiresAt?: number
}

/**
 * Pending second-factor challenges, keyed by the hash of their opaque token (the token itself is never stored).
 * Entries expire by themselves after ttlMs on the store's clock.
 * - `find`: the challenge, or null when unknown or expired; consumes nothing.
 * - `take`: deletes and returns it; of concurrent takes of one challenge exactly one gets it, the others null.
 */
export interface MfaChallengeStore {
  save (tokenHash: string, challenge: MfaChallenge, ttlMs: number): Promise<void>
  find (tokenHash: string): Promise<MfaChallenge | null>
  take (tokenHash: string): Promise<MfaChallenge | null>
  close (): Promise<void>
}
