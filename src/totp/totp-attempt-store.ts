/** The per-subject failed-verification lockout, with the OTP engine's policy numbers. */
export interface LockoutLimits {
  /** failed attempts per subject within windowMs that lock it */
  threshold: number
  windowMs: number
  lockoutMs: number
}

export type AttemptStart = { outcome: 'allowed', slot: string } | { outcome: 'locked', retryAfterMs: number }

/**
 * Counts code attempts per subject (a user, or an identifier without a user) and remembers the last accepted
 * time step per user. Every method is atomic (one Lua script on Redis); every entry expires by itself, on the
 * store's own clock.
 *
 * An attempt counts as a failure from `beginAttempt` on, until `forgiveAttempt` takes it back, so attempts in
 * flight use up the budget too and concurrent guesses cannot exceed it:
 * - `beginAttempt`: `locked` with the ms left while the subject is locked, or while its failures and attempts in
 *   flight within the window already reach the threshold (then until the oldest leaves the window). Otherwise the
 *   attempt takes a slot: `allowed`.
 * - `failAttempt`: the attempt stays counted, as of now. When the count within the window reaches the threshold
 *   the subject is locked for lockoutMs and the count is cleared; answers the ms locked (0 when not).
 * - `forgiveAttempt`: the attempt succeeded and no longer counts.
 * - `claimStep`: true and remembers `step` for ttlMs when it is greater than the last step claimed for the user;
 *   false otherwise. Of concurrent claims of one step exactly one is true.
 * - `close`: releases what the store itself started (timers); an injected Redis client stays open.
 */
export interface TotpAttemptStore {
  beginAttempt (subject: string, limits: LockoutLimits): Promise<AttemptStart>
  failAttempt (subject: string, slot: string, limits: LockoutLimits): Promise<number>
  forgiveAttempt (subject: string, slot: string): Promise<void>
  claimStep (userId: string, step: number, ttlMs: number): Promise<boolean>
  close (): Promise<void>
}
