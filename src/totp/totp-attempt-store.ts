import type { ThrottleLimits } from '../throttle/throttling.ts'

export type AttemptStart = { outcome: 'allowed' } | { outcome: 'throttled' | 'suspended', retryAfterMs: number }

/**
 * Counts code attempts per subject (a user, a user's recovery codes, or an identifier without a user) and
 * remembers the last accepted time step per user. Every method is atomic (one Lua script or command on Redis);
 * every entry but a suspension expires by itself, on the store's own clock.
 *
 * The throttle is the one of src/throttle/throttling.ts (a run of failures, a doubling wait, suspension, notices; see
 * ThrottleLimits). An attempt counts as a failure from `beginAttempt` on, so attempts in flight extend the run too
 * and concurrent guesses cannot slip past the wait:
 * - `beginAttempt`: `suspended` with the ms left while the subject is suspended (suspendAfter failures within
 *   suspendWindowMs); `throttled` with the ms left while its wait runs.
 *   Otherwise the run grows by one (and, beyond freeFailures, starts the next wait): `allowed`.
 * - `suspendedMs`: the ms left of the subject's suspension, 0 when it is not suspended; reads only.
 * - `failAttempt`: the attempt stays counted. Answers true
 *   when the run is throttled and no notice was due within noticeIntervalMs (then one is due now).
 * - `succeedAttempt`: the attempt succeeded: the run and its wait end (the failure log stays).
 * - `forgiveAttempt`: the attempt failed on our side and does not count.
 * - `clearFailures`: the run, the wait and the suspension end (a recovery-code sign-in, or an operator).
 * - `claimStep`: true and remembers `step` for ttlMs when it is greater than the last step claimed for the user;
 *   false otherwise. Of concurrent claims of one step exactly one is true.
 * - `close`: releases what the store itself started (timers); an injected Redis client stays open.
 */
export interface TotpAttemptStore {
  beginAttempt (subject: string, limits: ThrottleLimits): Promise<AttemptStart>
  suspendedMs (subject: string, limits: ThrottleLimits): Promise<number>
  failAttempt (subject: string, limits: ThrottleLimits): Promise<boolean>
  succeedAttempt (subject: string): Promise<void>
  forgiveAttempt (subject: string): Promise<void>
  clearFailures (subject: string): Promise<void>
  claimStep (userId: string, step: number, ttlMs: number): Promise<boolean>
  close (): Promise<void>
}
