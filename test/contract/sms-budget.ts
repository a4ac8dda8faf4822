import type { Test } from 'tap'
import type { SmsBudgetStore } from '../../src/delivery/sms-budget.ts'

/** One adapter under test, plus what the suite needs to watch time pass. */
export interface SmsBudgetHarness {
  store: SmsBudgetStore
  /** make this much time pass for the counters */
  elapse (ms: number): Promise<void>
  close? (): Promise<void>
}

const HOUR = 500_000
const TTL = 60_000

const takeTimes = async (store: SmsBudgetStore, times: number, country = 'US', hour = HOUR, budget = 3) => {
  const results: boolean[] = []
  for (let n = 0; n < times; n++) results.push(await store.take(country, hour, budget, TTL))
  return results
}

/** The SmsBudgetStore contract of src/delivery/sms-budget.ts, run against every adapter. */
export function smsBudgetContract (t: Test, create: () => Promise<SmsBudgetHarness>): void {
  const open = async (t: Test) => {
    const harness = await create()
    t.teardown(async () => { await harness.close?.() })
    return harness
  }

  t.test('takes up to the budget, then refuses without counting', async (t) => {
    const { store } = await open(t)
    t.same(await takeTimes(store, 5), [true, true, true, false, false])
    await store.giveBack('US', HOUR)
    t.same(await takeTimes(store, 2), [true, false], 'refusals were not counted: one given back is one to take')
  })

  t.test('each country and each hour has its own counter', async (t) => {
    const { store } = await open(t)
    t.same(await takeTimes(store, 4, 'US'), [true, true, true, false])
    t.same(await takeTimes(store, 1, 'FR'), [true], 'another country')
    t.same(await takeTimes(store, 1, 'US', HOUR + 1), [true], 'the next hour')
  })

  t.test('the budget is the caller\'s: a larger one allows more on the same counter', async (t) => {
    const { store } = await open(t)
    t.same(await takeTimes(store, 2, 'US', HOUR, 1), [true, false])
    t.same(await takeTimes(store, 2, 'US', HOUR, 2), [true, false])
  })

  t.test('giving back never goes below zero', async (t) => {
    const { store } = await open(t)
    await store.giveBack('US', HOUR)
    await store.take('US', HOUR, 3, TTL)
    await store.giveBack('US', HOUR)
    await store.giveBack('US', HOUR)
    t.same(await takeTimes(store, 4), [true, true, true, false], 'exactly the budget, not more')
  })

  t.test('the counter lapses ttlMs after its first take, not after the last', async (t) => {
    const { store, elapse } = await open(t)
    t.ok(await store.take('US', HOUR, 1, TTL))
    await elapse(TTL / 2)
    t.notOk(await store.take('US', HOUR, 1, TTL), 'spent, and a refusal does not renew it')
    await store.giveBack('US', HOUR)
    t.ok(await store.take('US', HOUR, 1, TTL), 'a take after a give-back does not renew it either')
    await elapse(TTL / 2 + 10)
    t.ok(await store.take('US', HOUR, 1, TTL), 'lapsed: a fresh counter')
  })

  t.test('a lapsed counter is not revived by a give-back', async (t) => {
    const { store, elapse } = await open(t)
    await takeTimes(store, 3)
    await elapse(TTL + 10)
    await store.giveBack('US', HOUR)
    t.same(await takeTimes(store, 4), [true, true, true, false])
  })

  t.test('concurrent takes never exceed the budget', async (t) => {
    const { store } = await open(t)
    const results = await Promise.all(Array.from({ length: 20 }, () => store.take('US', HOUR, 7, TTL)))
    t.equal(results.filter(Boolean).length, 7)
  })

  t.test('a client share: one client cannot spend more than its part; others still can', async (t) => {
    const { store } = await open(t)
    const take = (client: string) => store.take('US', HOUR, 5, TTL, { client, budget: 2 })
    t.same([await take('a'), await take('a'), await take('a')], [true, true, false], 'client a: its share of 2')
    t.same([await take('b'), await take('b')], [true, true], 'client b has its own share')
    t.same([await take('c'), await take('c')], [true, false], 'and the country budget of 5 still caps them all')
    await store.giveBack('US', HOUR, 'a')
    t.same([await take('a'), await take('d')], [true, false], 'a give-back returns the client\'s unit and the country\'s')
  })
}
