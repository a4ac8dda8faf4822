/** What a WebAuthn challenge was issued for; the answer to it must be for the same. */
export interface PendingPasskeyChallenge {
  /** registration: a signed-in user adds a passkey; sign_in: a passkey alone; second_factor: after a code */
  purpose: 'registration' | 'sign_in' | 'second_factor'
  /**
   * an HMAC of whom it was issued to (the user, and for a second factor the mfaToken): the answer must be for the
   * same; a keyed hash, so no store holds a user id in the clear after an erasure
   */
  binding: string
}

/**
 * Pending WebAuthn challenges, keyed by the challenge itself (base64url, as the credential's clientDataJSON
 * carries it back). Entries expire by themselves after ttlMs on the store's clock.
 * - `save`: stores the pending challenge for ttlMs.
 * - `take`: deletes and returns it, or null when unknown or expired; of concurrent takes of one challenge
 *   exactly one gets it (single use: a replayed answer finds nothing).
 * - `close`: releases what the store itself started (timers); an injected Redis client stays open.
 */
export interface PasskeyChallengeStore {
  save (challenge: string, pending: PendingPasskeyChallenge, ttlMs: number): Promise<void>
  take (challenge: string): Promise<PendingPasskeyChallenge | null>
  close (): Promise<void>
}
