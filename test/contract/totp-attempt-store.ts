import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { LockoutLimits, TotpAttemptStore } from '../../src/totp/totp-attempt-store.ts'

export interface TotpAttemptStoreHarness {
  store: TotpAttemptStore
  /** lets time pass: the memory store's clock moves, Redis really waits */
  elapse (ms: number): Promise<void>
  /** the keys the store holds, with their PTTL (-1 = no TTL); adapters with key names (Redis) provide it */
  listKeys?: () => Promise<Array<{ key: string, pttl: number }>>
  close (): Promise<void>
}

// short enough for Redis to really wait them out
const LIMITS: LockoutLimits = { threshold: 3, windowMs: 400, lockoutMs: 300 }
const subject = () => `u:${randomBytes(12).toString('hex')}`

async function allowedSlot (store: TotpAttemptStore, who: string, limits = LIMITS): Promise<string> {
  const start = await store.beginAttempt(who, limits)
  if (start.outcome !== 'allowed') throw new Error(`expected an allowed attempt, got ${JSON.stringify(start)}`)
  return start.slot
}

/** The TotpAttemptStore contract (src/totp/totp-attempt-store.ts), run against every adapter. */
export function totpAttemptStoreContract (t: Test, createHarness: () => Promise<TotpAttemptStoreHarness>): void {
  let harness: TotpAttemptStoreHarness
  t.beforeEach(async () => { harness = await createHarness() })
  t.afterEach(async () => { await harness.close() })

  t.test('failures up to the threshold lock the subject for lockoutMs, then it starts afresh', async (t) => {
    const { store } = harness
    const who = subject()
    t.equal(await store.failAttempt(who, await allowedSlot(store, who), LIMITS), 0)
    t.equal(await store.failAttempt(who, await allowedSlot(store, who), LIMITS), 0)
    t.equal(await store.failAttempt(who, await allowedSlot(store, who), LIMITS), LIMITS.lockoutMs, 'the third failure locks')
    const locked = await store.beginAttempt(who, LIMITS)
    t.equal(locked.outcome, 'locked')
    t.ok(locked.outcome === 'locked' && locked.retryAfterMs > 0 && locked.retryAfterMs <= LIMITS.lockoutMs, 'with the time left')
    t.equal((await store.beginAttempt(subject(), LIMITS)).outcome, 'allowed', 'other subjects are not affected')
    await harness.elapse(LIMITS.lockoutMs + 50)
    const slot = await allowedSlot(store, who)
    t.equal(await store.failAttempt(who, slot, LIMITS), 0, 'the count was cleared by the lock')
  })

  t.test('a forgiven attempt does not count', async (t) => {
    const { store } = harness
    const who = subject()
    for (let attempt = 0; attempt < 5; attempt++) await store.forgiveAttempt(who, await allowedSlot(store, who))
    await store.failAttempt(who, await allowedSlot(store, who), LIMITS)
    await store.failAttempt(who, await allowedSlot(store, who), LIMITS)
    t.equal((await store.beginAttempt(who, LIMITS)).outcome, 'allowed', 'two failures, below the threshold')
  })

  t.test('attempts in flight use the budget: concurrent guesses never exceed the threshold', async (t) => {
    const { store } = harness
    const who = subject()
    const starts = await Promise.all(Array.from({ length: 10 }, () => store.beginAttempt(who, LIMITS)))
    t.equal(starts.filter((start) => start.outcome === 'allowed').length, LIMITS.threshold)
    const refused = starts.find((start) => start.outcome === 'locked')
    t.ok(refused?.outcome === 'locked' && refused.retryAfterMs > 0 && refused.retryAfterMs <= LIMITS.windowMs, 'refused until the oldest leaves the window')
  })

  t.test('failures leave the window', async (t) => {
    const { store } = harness
    const who = subject()
    await store.failAttempt(who, await allowedSlot(store, who), LIMITS)
    await store.failAttempt(who, await allowedSlot(store, who), LIMITS)
    await harness.elapse(LIMITS.windowMs + 50)
    t.equal(await store.failAttempt(who, await allowedSlot(store, who), LIMITS), 0, 'the old failures no longer count')
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
    if (!harness.listKeys) return t.pass('this adapter has no key names')
    const { store } = harness
    const who = subject()
    await store.failAttempt(who, await allowedSlot(store, who), LIMITS)
    await store.claimStep(randomBytes(12).toString('hex'), 1, 5000)
    const locked = subject()
    for (let attempt = 0; attempt < LIMITS.threshold; attempt++) await store.failAttempt(locked, await allowedSlot(store, locked), LIMITS)
    const keys = await harness.listKeys()
    t.ok(keys.length >= 3, `${keys.length} keys`)
    for (const { key, pttl } of keys) t.ok(pttl > 0, `${key} expires`)
  })
}
