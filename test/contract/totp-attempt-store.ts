import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { ThrottleLimits } from '../../src/throttle/throttling.ts'
import type { TotpAttemptStore } from '../../src/totp/totp-attempt-store.ts'
import { failureThrottleContract, type ThrottledSubject } from './failure-throttle.ts'

export interface TotpAttemptStoreHarness {
  store: TotpAttemptStore
  /** lets time pass: the memory store's clock moves, Redis really waits */
  elapse (ms: number): Promise<void>
  /** the keys the store holds, with their PTTL (-1 = no TTL); adapters with key names (Redis) provide it */
  listKeys?: () => Promise<Array<{ key: string, pttl: number }>>
  close (): Promise<void>
}

// waits of seconds: time passes by the harness's clock (a slow machine's real milliseconds cannot end one early)
const LIMITS: ThrottleLimits = {
  freeFailures: 2,
  baseDelayMs: 10_000,
  maxDelayMs: 15_000,
  suspendAfter: 6,
  memoryMs: 60_000,
  noticeIntervalMs: 60_000,
  suspendWindowMs: 86_400_000
}
const subject = () => `u:${randomBytes(12).toString('hex')}`

async function allowed (store: TotpAttemptStore, who: string, limits = LIMITS): Promise<void> {
  const start = await store.beginAttempt(who, limits)
  if (start.outcome !== 'allowed') throw new Error(`expected an allowed attempt, got ${JSON.stringify(start)}`)
}

/** One attempt that fails, after any wait. Answers whether a notice is due. */
async function fail (harness: TotpAttemptStoreHarness, who: string): Promise<boolean> {
  let start = await harness.store.beginAttempt(who, LIMITS)
  if (start.outcome === 'throttled') {
    await harness.elapse(start.retryAfterMs + 20)
    start = await harness.store.beginAttempt(who, LIMITS)
  }
  if (start.outcome !== 'allowed') throw new Error(`expected an allowed attempt, got ${JSON.stringify(start)}`)
  return harness.store.failAttempt(who, LIMITS)
}

/** A subject of `store` under the failure throttle contract: each code one attempt, as TotpAuthenticator runs it. */
function throttledSubject (store: TotpAttemptStore, limits: ThrottleLimits): ThrottledSubject {
  const who = subject()
  const begin = async () => {
    const start = await store.beginAttempt(who, limits)
    return start.outcome === 'throttled' ? { waitMs: start.retryAfterMs } : start.outcome
  }
  return {
    wrong: async () => {
      const start = await begin()
      if (start === 'suspended') return { suspended: true }
      return start === 'allowed' ? { notify: await store.failAttempt(who, limits) } : start
    },
    right: async () => {
      const start = await begin()
      if (start !== 'allowed') return start === 'suspended' ? { suspended: true } : start
      await store.succeedAttempt(who)
      return { suspended: false }
    },
    clear: () => store.clearFailures(who)
  }
}

/** The TotpAttemptStore contract (src/totp/totp-attempt-store.ts), run against every adapter. */
export function totpAttemptStoreContract (t: Test, createHarness: () => Promise<TotpAttemptStoreHarness>): void {
  let harness: TotpAttemptStoreHarness
  t.beforeEach(async () => { harness = await createHarness() })
  t.afterEach(async () => { await harness.close() })

  // each of its tests gets a harness of its own, like the tests below
  failureThrottleContract(t, {
    subject: async (limits) => throttledSubject(harness.store, limits),
    elapse: (ms) => harness.elapse(ms)
  })

  t.test('past the free failures each attempt makes the next wait, doubling up to the cap', async (t) => {
    const { store } = harness
    const who = subject()
    t.equal(await fail(harness, who), false)
    t.equal(await fail(harness, who), false)
    await allowed(store, who)
    const waiting = await store.beginAttempt(who, LIMITS)
    t.ok(waiting.outcome === 'throttled' && waiting.retryAfterMs > 0 && waiting.retryAfterMs <= LIMITS.baseDelayMs, 'the third attempt starts a wait')
    t.equal(await store.failAttempt(who, LIMITS), true, 'the first throttled failure calls for a notice')
    await harness.elapse(LIMITS.baseDelayMs + 20)
    await allowed(store, who)
    const longer = await store.beginAttempt(who, LIMITS)
    t.ok(longer.outcome === 'throttled' && longer.retryAfterMs > LIMITS.baseDelayMs && longer.retryAfterMs <= LIMITS.maxDelayMs, 'then longer, capped')
    t.equal(await store.failAttempt(who, LIMITS), false, 'one notice per interval')
    t.equal((await store.beginAttempt(subject(), LIMITS)).outcome, 'allowed', 'other subjects are not affected')
  })

  t.test('a success ends the run and its wait; a forgiven attempt does not count', async (t) => {
    const { store } = harness
    const who = subject()
    await fail(harness, who)
    await fail(harness, who)
    await allowed(store, who)
    await store.succeedAttempt(who)
    for (let attempt = 0; attempt < 5; attempt++) {
      await allowed(store, who)
      await store.forgiveAttempt(who)
    }
    t.equal(await fail(harness, who), false)
    await allowed(store, who)
    t.equal((await store.beginAttempt(who, LIMITS)).outcome, 'allowed', 'two counted attempts: still free')
  })

  t.test('attempts in flight count: of concurrent guesses only the free ones and one more get through', async (t) => {
    const { store } = harness
    const who = subject()
    const starts = await Promise.all(Array.from({ length: 10 }, () => store.beginAttempt(who, LIMITS)))
    t.equal(starts.filter((start) => start.outcome === 'allowed').length, LIMITS.freeFailures + 1)
    t.ok(starts.some((start) => start.outcome === 'throttled'), 'the rest wait')
  })

  t.test('suspendAfter failures suspend the subject for the rest of the window, or until clearFailures', async (t) => {
    const { store } = harness
    const who = subject()
    t.equal(await store.suspendedMs(who, LIMITS), 0)
    for (let attempt = 0; attempt < LIMITS.suspendAfter; attempt++) await fail(harness, who)
    await harness.elapse(LIMITS.maxDelayMs + 20)
    const start = await store.beginAttempt(who, LIMITS)
    t.match(start, { outcome: 'suspended' })
    const left = (start as { retryAfterMs: number }).retryAfterMs
    // the window less the waits the failures sat out by the harness's clock
    t.ok(left > LIMITS.suspendWindowMs - LIMITS.suspendAfter * LIMITS.maxDelayMs - 10_000 && left <= LIMITS.suspendWindowMs, `the rest of the window (${left} ms)`)
    t.ok(await store.suspendedMs(who, LIMITS) > 0, 'suspendedMs reads it')
    await store.clearFailures(who)
    t.same(await store.beginAttempt(who, LIMITS), { outcome: 'allowed' }, 'lifted')
  })

  t.test('claimStep accepts a step once, and never an earlier one', async (t) => {
    const { store } = harness
    const user = randomBytes(12).toString('hex')
    t.equal(await store.claimStep(user, 1000, 5000), true)
    t.equal(await store.claimStep(user, 1000, 5000), false, 'the same step again')
    t.equal(await store.claimStep(user, 999, 5000), false, 'an earlier step')
    t.equal(await store.claimStep(user, 1001, 5000), true, 'a later step')
    t.equal(await store.claimStep(randomBytes(12).toString('hex'), 1000, 5000), true, 'steps are per user')
  })

  t.test('of concurrent claims of one step exactly one wins', async (t) => {
    const { store } = harness
    const user = randomBytes(12).toString('hex')
    const claims = await Promise.all(Array.from({ length: 10 }, () => store.claimStep(user, 42, 5000)))
    t.equal(claims.filter(Boolean).length, 1)
  })

  t.test('a claimed step is forgotten after its ttl', async (t) => {
    const { store } = harness
    const user = randomBytes(12).toString('hex')
    t.equal(await store.claimStep(user, 7, 200), true)
    await harness.elapse(250)
    t.equal(await store.claimStep(user, 7, 200), true)
  })

  t.test('every key has a TTL', async (t) => {
    // known only once the harness exists: a plan of none is tap's skip, with the reason
    if (!harness.listKeys) return t.plan(0, 'this adapter has no key names')
    const { store } = harness
    const who = subject()
    for (let attempt = 0; attempt < LIMITS.freeFailures + 1; attempt++) await fail(harness, who)
    await store.claimStep(randomBytes(12).toString('hex'), 1, 5000)
    const keys = await harness.listKeys()
    t.ok(keys.length >= 4, `${keys.length} keys: run, wait, notice, step`)
    for (const { key, pttl } of keys) t.ok(pttl > 0, `${key} expires`)
  })
}
