/** When a number range counts as pumped, what a block does, and when the operator is told. */
export interface SmsFraudPolicy {
  /** the sliding window the counts cover, ms */
  windowMs: number
  /** a range with fewer sends in the window is never judged */
  minSends: number
  /** verified ÷ sent below this (with minSends reached) blocks the range */
  minConversion: number
  /** how long a block lasts, ms */
  blockMs: number
  /**
   * this many ranges of one country blocked at once raise the country alert, at most once per blockMs; 0 = never.
   * A country is never blocked whole: a handful of ranges would let anyone shut off SMS to every number in it
   */
  countryAlertRanges: number
  /** how far back a range's verified codes make it a range of real users, ms (whole days); 0 = no exemption */
  historyMs: number
  /** verified codes on the days (UTC) before the current one within historyMs that exempt a range from blocks */
  historyMinVerified: number
}

export type SmsFraudVerdict =
  | { outcome: 'admitted' }
  /**
   * `newly`: this call set the block. `blockedRanges`: the country's ranges blocked now, this one included.
   * `alert`: this block raised the country alert (countryAlertRanges reached, none raised within blockMs)
   */
  | { outcome: 'blocked', until: number, newly: boolean, alert: boolean, blockedRanges: number }

/** What `count` adds: a verified code, or the take-back of a send `admit` counted whose code was never issued. */
export type SmsFraudCount = 'verified' | 'unsent'

/**
 * Codes sent and verified per number range (an E.164 number without its last 4 digits) and per country over a
 * sliding window, the range blocks they lead to, and each range's history of verified codes. Shared by every
 * instance on Redis, per process in memory. Times are the caller's clock (`now`, epoch ms), so tests move time
 * without waiting. The window is kept as 60 buckets of windowMs / 60: a count leaves the window in the
 * bucket-sized step after windowMs. The history is kept per day (UTC).
 *
 * - `admit(country, range, policy, now, network?)`, atomically: `blocked` while the range is; otherwise, when the
 *   range has at least minSends sends in the window and fewer than minConversion × sends verified, and fewer than
 *   historyMinVerified codes verified on the days before today within historyMs, blocks the range until
 *   now + blockMs and answers `blocked` with `newly: true` (and `alert: true` when the country's blocked ranges
 *   reach countryAlertRanges > 0 and no alert was raised for it within blockMs); otherwise counts one send for
 *   the range and its country (and the client's network, an opaque key, among the country's) and answers
 *   `admitted`. A refused call counts nothing. Never blocks a country.
 * - `count(country, range, 'verified', policy, now)`: one verified code for the range and its country, and in
 *   the range's history. `count(…, 'unsent', policy, now)` with the `now` of an `admit` takes back its send.
 * - `stats(country, policy, now)`: the country's sends and verifications in the window, and the distinct client
 *   networks its admitted sends came from (up to MAX_NETWORKS): what an operator judges a country alert by.
 */
export interface SmsFraudStore {
  admit (
    country: string, range: string, policy: SmsFraudPolicy, now: number, network?: string
  ): Promise<SmsFraudVerdict>
  count (country: string, range: string, what: SmsFraudCount, policy: SmsFraudPolicy, now: number): Promise<void>
  stats (country: string, policy: SmsFraudPolicy, now: number): Promise<SmsCountryStats>
}

export interface SmsCountryStats { sent: number, verified: number, networks: number }

/** the client networks remembered per country: "many" is enough to know, and the memory stays bounded */
export const MAX_NETWORKS = 10_000

export const DAY_MS = 86_400_000

/** The history's days: today's index (UTC), and how many days before it count. */
export function historyDays (policy: Pick<SmsFraudPolicy, 'historyMs'>, now: number): { today: number, days: number } {
  return { today: Math.floor(now / DAY_MS), days: Math.ceil(policy.historyMs / DAY_MS) }
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
