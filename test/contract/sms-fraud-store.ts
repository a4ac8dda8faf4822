import type { Test } from 'tap'
import type { SmsFraudPolicy, SmsFraudStore } from '../../src/delivery/sms-fraud-store.ts'

export interface SmsFraudHarness {
  store: SmsFraudStore
  close? (): Promise<void>
}

const HOUR = 3_600_000
const POLICY: SmsFraudPolicy = {
  windowMs: HOUR, minSends: 5, minConversion: 0.2, blockMs: HOUR, countryBlockedRanges: 2
}
const T0 = Date.parse('2030-01-01T10:00:00Z')

const admitTimes = async (store: SmsFraudStore, times: number, range: string, now = T0, country = 'US') => {
  const outcomes: string[] = []
  for (let n = 0; n < times; n++) {
    const verdict = await store.admit(country, range, POLICY, now)
    outcomes.push(verdict.outcome === 'admitted' ? 'admitted' : `${verdict.scope}${verdict.newly ? '!' : ''}`)
  }
  return outcomes
}

/** The SmsFraudStore contract of src/delivery/sms-fraud-store.ts, run against every adapter. */
export function smsFraudStoreContract (t: Test, create: () => Promise<SmsFraudHarness>): void {
  const open = async (t: Test) => {
    const harness = await create()
    t.teardown(async () => { await harness.close?.() })
    return harness.store
  }

  t.test('a range with minSends sends and no verification is blocked on the next send, and stays blocked', async (t) => {
    const store = await open(t)
    t.same(await admitTimes(store, 7, '+1201555'), ['admitted', 'admitted', 'admitted', 'admitted', 'admitted', 'range!', 'range'])
    t.same(await admitTimes(store, 1, '+1201666'), ['admitted'], 'another range of the country is not')
    t.same(await store.stats('US', POLICY, T0), { sent: 6, verified: 0 }, 'refusals count nothing')
  })

  t.test('the block lasts blockMs on the caller\'s clock, and the window forgets old sends', async (t) => {
    const store = await open(t)
    await admitTimes(store, 6, '+1201555')
    const blocked = await store.admit('US', '+1201555', POLICY, T0 + HOUR - 1)
    t.match(blocked, { outcome: 'blocked', scope: 'range', until: T0 + HOUR, newly: false })
    t.same(await admitTimes(store, 1, '+1201555', T0 + HOUR + 60_000), ['admitted'], 'the block ended and the sends left the window')
  })

  t.test('enough verified codes keep a range open; too few do not', async (t) => {
    const store = await open(t)
    t.same(await admitTimes(store, 5, '+1201555'), Array(5).fill('admitted'))
    await store.count('US', '+1201555', 'verified', POLICY, T0)
    await store.count('US', '+1201555', 'verified', POLICY, T0)
    t.same(await admitTimes(store, 6, '+1201555'), Array(6).fill('admitted'), 'up to 2 of 10 verified: 0.2 is not below 0.2')
    t.same(await admitTimes(store, 1, '+1201555'), ['range!'], '2 of 11 is')
    t.same(await store.stats('US', POLICY, T0), { sent: 11, verified: 2 })
  })

  t.test('a send taken back does not count', async (t) => {
    const store = await open(t)
    await admitTimes(store, 5, '+1201555')
    await store.count('US', '+1201555', 'unsent', POLICY, T0)
    t.same(await admitTimes(store, 2, '+1201555'), ['admitted', 'range!'])
    t.same(await store.stats('US', POLICY, T0), { sent: 5, verified: 0 })
  })

  t.test('countryBlockedRanges blocked ranges block the whole country, other countries untouched', async (t) => {
    const store = await open(t)
    t.same((await admitTimes(store, 6, '+1201555')).at(-1), 'range!')
    t.same((await admitTimes(store, 6, '+1201666')).at(-1), 'country!')
    t.same(await admitTimes(store, 1, '+1201777'), ['country'], 'a third range of the country')
    t.same(await admitTimes(store, 1, '+3361234', T0, 'FR'), ['admitted'], 'another country')
    t.same(await admitTimes(store, 1, '+1201777', T0 + HOUR + 60_000), ['admitted'], 'until the block ends')
  })

  t.test('concurrent sends are each counted', async (t) => {
    const store = await open(t)
    const many = { ...POLICY, minSends: 1000 }
    await Promise.all(Array.from({ length: 20 }, () => store.admit('US', '+1201555', many, T0)))
    t.same(await store.stats('US', many, T0), { sent: 20, verified: 0 })
  })
}
