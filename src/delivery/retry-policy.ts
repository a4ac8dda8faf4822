import { backoffMs } from '../throttle/backoff.ts'
import { isDeliveryError } from './senders.ts'

export interface RetryPolicy {
  /** the first retry waits about this long, each next one twice as long */
  baseMs: number
  /** no single wait is longer, unless the provider's Retry-After asks for it */
  maxMs: number
  /** tries in all, the first included */
  maxAttempts: number
  /** [0, 1); tests inject a fixed one */
  random?: () => number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 1000, maxMs: 30_000, maxAttempts: 10 }

export type RetryDecision = { retry: true, delayMs: number, reason: string } | { retry: false, reason: string }

/**
 * Why a job failed, fit for logs and the failed set: a DeliveryError's message names the provider and status
 * only; any other error is a bug whose message may quote the code, so only its name is kept.
 */
export function failureReason (error: unknown): string {
  if (isDeliveryError(error)) return error.message
  return `unexpected ${error instanceof Error ? error.name : typeof error}`
}

/**
 * After attempt `attempt` of a job failed: retry (transient failures only) after an exponential backoff with
 * "equal jitter" (half fixed, half random, so a burst of failures does not retry in lockstep), at least the
 * provider's Retry-After; give up when the attempts are spent or the code would expire before the next try.
 */
export function decideRetry (
  policy: RetryPolicy, job: { attempt: number, expiresAt: number }, error: unknown, now: number
): RetryDecision {
  const reason = failureReason(error)
  if (!isDeliveryError(error) || error.kind !== 'transient') return { retry: false, reason }
  if (job.attempt >= policy.maxAttempts) return { retry: false, reason: `${reason}; gave up after ${job.attempt} attempts` }
  const ceiling = backoffMs(job.attempt, policy)
  const jittered = Math.round(ceiling / 2 + (policy.random ?? Math.random)() * ceiling / 2)
  const delayMs = Math.max(jittered, error.retryAfterMs ?? 0)
  if (now + delayMs >= job.expiresAt) return { retry: false, reason: `${reason}; the code expires before the next try` }
  return { retry: true, delayMs, reason }
}
