/** When a number range counts as pumped, and what a block does. */
export interface SmsFraudPolicy {
  /** the sliding window the counts cover, ms */
  windowMs: number
  /** a range with fewer sends in the window is never judged */
  minSends: number
  /** verified ÷ sent below this (with minSends reached) blocks the range */
  minConversion: number
  /** how long a block lasts, ms */
  blockMs: number
  /** this many ranges of one country blocked at once block the whole country too; 0 = never */
  countryBlockedRanges: number
}

export type SmsFraudVerdict =
  | { outcome: 'admitted' }
  /** `newly`: this call set the block (of the range, and of the country when scope is country) */
  | { outcome: 'blocked', scope: 'range' | 'country', until: number, newly: boolean }

/** What `count` adds: a verified code, or the take-back of a send `admit` counted whose code was never issued. */
export type SmsFraudCount = 'verified' | 'unsent'

/**
 * Codes sent and verified per number range (an E.164 number without its last 4 digits) and per country over a
 * sliding window, and the blocks they lead to. Shared by every instance on Redis, per process in memory. Times are
 * the caller's clock (`now`, epoch ms), so tests move time without waiting. The window is kept as 60 buckets of
 * windowMs / 60: a count leaves the window in the bucket-sized step after windowMs.
 *
 * - `admit(country, range, policy, now)`, atomically: `blocked` (scope `country`) while the country is blocked;
 *   `blocked` (scope `range`) while the range is; otherwise, when the range has at least minSends sends in the
 *   window and fewer than minConversion × sends verified, blocks the range until now + blockMs (and the country
 *   when countryBlockedRanges > 0 of its ranges are blocked at once, this one included) and answers `blocked`
 *   with `newly: true`; otherwise counts one send for the range and its country and answers `admitted`.
 *   A refused call counts nothing.
 * - `count(country, range, 'verified', policy, now)`: one verified code for the range and its country.
 *   `count(…, 'unsent', policy, now)` with the `now` of an `admit` takes back the send it counted.
 * - `stats(country, policy, now)`: the country's sends and verifications in the window (for a conversion gauge).
 */
export interface SmsFraudStore {
  admit (country: string, range: string, policy: SmsFraudPolicy, now: number): Promise<SmsFraudVerdict>
  count (country: string, range: string, what: SmsFraudCount, policy: SmsFraudPolicy, now: number): Promise<void>
  stats (country: string, policy: SmsFraudPolicy, now: number): Promise<{ sent: number, verified: number }>
}

export const WINDOW_BUCKETS = 60

/** The bucket `now` falls in, and its size: windowMs / 60, at least 1 ms. */
export function windowBucket (policy: Pick<SmsFraudPolicy, 'windowMs'>, now: number): { bucket: number, bucketMs: number } {
  const bucketMs = Math.max(1, Math.ceil(policy.windowMs / WINDOW_BUCKETS))
  return { bucket: Math.floor(now / bucketMs), bucketMs }
}

/** Whether a range with these counts is pumped under the policy. */
export const isPumped = (policy: SmsFraudPolicy, sent: number, verified: number): boolean =>
  sent >= policy.minSends && verified < sent * policy.minConversion
