/**
 * The one doubling backoff: `baseMs` at step 1, twice as long at each step after, never more than `maxMs`, and
 * nothing before step 1. Delivery retries and the failure throttle wait by it; src/stores/redis-lua/backoff.lua is
 * the same formula for Lua scripts, and test/redis-lua/backoff.test.ts holds the two to the same answers.
 */
export interface Backoff {
  baseMs: number
  maxMs: number
}

export function backoffMs (step: number, { baseMs, maxMs }: Backoff): number {
  if (step < 1) return 0
  return Math.floor(Math.min(maxMs, baseMs * 2 ** (step - 1)))
}
