import type { Test } from 'tap'
import type { SmsFraudPolicy, SmsFraudStore } from '../../src/delivery/sms-fraud-store.ts'

export interface SmsFraudHarness {
  store: SmsFraudStore
  close? (): Promise<void>
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const POLICY: SmsFraudPolicy = {
  windowMs: HOUR,
  minSends: 5,
  minConversion: 0.2,
  blockMs: HOUR,
  countryAlertRanges: 2,
  historyMs: 30 * DAY,
  historyMinVerified: 2
}
const T0 = Date.parse('2030-01-01T10:00:00Z')

const admitTimes = async (store: SmsFraudStore, times: number, range: string, now = T0, country = 'US', policy = POLICY) => {
  const outcomes: string[] = []
  for (let n = 0; n < times; n++) {
    const verdict = await store.admit(country, range, policy, now)
    outcomes.push(verdict.outcome === 'admitted' ? 'admitted' : `range${verdict.newly ? '!' : ''}${verdict.alert ? ' alert' : ''}`)
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
    t.same(await store.stats('US', POLICY, T0), { sent: 6, verified: 0, networks: 0 }, 'refusals count nothing')
  })

  t.test('the block lasts blockMs on the caller\'s clock, and the window forgets old sends', async (t) => {
    const store = await open(t)
    await admitTimes(store, 6, '+1201555')
    const blocked = await store.admit('US', '+1201555', POLICY, T0 + HOUR - 1)
    t.match(blocked, { outcome: 'blocked', until: T0 + HOUR, newly: false, alert: false, blockedRanges: 1 })
    t.same(await admitTimes(store, 1, '+1201555', T0 + HOUR + 60_000), ['admitted'], 'the block ended and the sends left the window')
  })

  t.test('enough verified codes keep a range open; too few do not', async (t) => {
    const store = await open(t)
    t.same(await admitTimes(store, 5, '+1201555'), Array(5).fill('admitted'))
    await store.count('US', '+1201555', 'verified', POLICY, T0)
    await store.count('US', '+1201555', 'verified', POLICY, T0)
    t.same(await admitTimes(store, 6, '+1201555'), Array(6).fill('admitted'), 'up to 2 of 10 verified: 0.2 is not below 0.2')
    t.same(await admitTimes(store, 1, '+1201555'), ['range!'], '2 of 11 is')
    t.same(await store.stats('US', POLICY, T0), { sent: 11, verified: 2, networks: 0 })
  })

  t.test('a send taken back does not count', async (t) => {
    const store = await open(t)
    await admitTimes(store, 5, '+1201555')
    await store.count('US', '+1201555', 'unsent', POLICY, T0)
    t.same(await admitTimes(store, 2, '+1201555'), ['admitted', 'range!'])
    t.same(await store.stats('US', POLICY, T0), { sent: 5, verified: 0, networks: 0 })
  })

  t.test('blocked ranges never block their country: countryAlertRanges of them raise one alert per blockMs', async (t) => {
    const store = await open(t)
    t.same((await admitTimes(store, 6, '+1201555')).at(-1), 'range!')
    t.same((await admitTimes(store, 6, '+1201666')).at(-1), 'range! alert', 'the second blocked range of the country')
    t.match(await store.admit('US', '+1201666', POLICY, T0), { outcome: 'blocked', newly: false, alert: false })
    t.same(await admitTimes(store, 1, '+1201777'), ['admitted'], 'a third range of the country is open')
    t.same((await admitTimes(store, 5, '+1201777')).at(-1), 'range!', 'and once blocked raises no second alert within blockMs')
    t.match(await store.admit('US', '+1201888', POLICY, T0), { outcome: 'admitted' })
    t.same(await admitTimes(store, 1, '+3361234', T0, 'FR'), ['admitted'], 'another country')
    const later = T0 + HOUR + 60_000
    t.same((await admitTimes(store, 6, '+1201444', later)).at(-1), 'range!', 'after the blocks ended, one blocked range is one')
    t.same((await admitTimes(store, 6, '+1201333', later)).at(-1), 'range! alert', 'two again: a new alert')
    t.same((await admitTimes(store, 6, '+1201222', later)).at(-1), 'range!')
    t.same((await admitTimes(store, 6, '+1201111', later, 'FR')).at(-1), 'range!', 'ranges of another country count for that one')
  })

  t.test('countryAlertRanges 0 never alerts', async (t) => {
    const store = await open(t)
    const quiet = { ...POLICY, countryAlertRanges: 0 }
    for (const range of ['+1201555', '+1201666', '+1201777']) {
      for (let n = 0; n < 5; n++) await store.admit('US', range, quiet, T0)
      t.match(await store.admit('US', range, quiet, T0), { outcome: 'blocked', newly: true, alert: false })
    }
  })

  t.test('a range with historyMinVerified codes verified on earlier days within historyMs is never blocked', async (t) => {
    const store = await open(t)
    const quiet = { ...POLICY, countryAlertRanges: 0 }
    const admits = (times: number, range: string) => admitTimes(store, times, range, T0, 'US', quiet)
    const verify = async (range: string, at: number, times: number) => {
      for (let n = 0; n < times; n++) await store.count('US', range, 'verified', POLICY, at)
    }
    await verify('+1201555', T0 - 3 * DAY, 1)
    await verify('+1201555', T0 - DAY, 1)
    t.same(await admits(20, '+1201555'), Array(20).fill('admitted'), 'two verified on earlier days: exempt')

    await verify('+1201666', T0 - DAY, 1)
    t.same((await admits(6, '+1201666')).at(-1), 'range!', 'one is too few')

    await verify('+1201777', T0 - 31 * DAY, 2)
    t.same((await admits(6, '+1201777')).at(-1), 'range!', 'verified longer ago than historyMs')

    await verify('+1201888', T0, 1)
    t.same(await admits(6, '+1201888'), Array(6).fill('admitted'), 'one verified in the window keeps 1 of 6 above 0.2...')
    t.same(await admits(1, '+1201888'), ['range!'], '...and 1 of 7 is pumped: codes verified today are not history yet')

    const none = { ...quiet, historyMs: 0 }
    await verify('+1201999', T0 - DAY, 2)
    for (let n = 0; n < 5; n++) await store.admit('US', '+1201999', none, T0)
    t.match(await store.admit('US', '+1201999', none, T0), { outcome: 'blocked', newly: true }, 'historyMs 0: no exemption')
  })

  t.test('a block set before the range earned its history lasts', async (t) => {
    const store = await open(t)
    t.same((await admitTimes(store, 6, '+1201555')).at(-1), 'range!')
    await store.count('US', '+1201555', 'verified', POLICY, T0 - 2 * DAY)
    await store.count('US', '+1201555', 'verified', POLICY, T0 - DAY)
    t.same(await admitTimes(store, 1, '+1201555', T0 + 1000), ['range'])
  })

  t.test('stats count the distinct client networks of the window\'s sends, refused ones aside', async (t) => {
    const store = await open(t)
    const many = { ...POLICY, minSends: 1000 }
    await store.admit('US', '+1201555', many, T0 - HOUR - 60_000, 'net-old')
    for (const network of ['net-1', 'net-2', 'net-1']) await store.admit('US', '+1201666', many, T0, network)
    await store.admit('US', '+1201666', many, T0)
    await store.admit('FR', '+3361234', many, T0, 'net-3')
    t.same(await store.stats('US', many, T0), { sent: 4, verified: 0, networks: 2 })
    t.same(await store.stats('FR', many, T0), { sent: 1, verified: 0, networks: 1 })
    await admitTimes(store, 6, '+1201777')
    t.match(await store.admit('US', '+1201777', POLICY, T0, 'net-4'), { outcome: 'blocked' })
    t.same((await store.stats('US', many, T0)).networks, 2, 'a refused send brings no network')
  })

  t.test('concurrent sends are each counted', async (t) => {
    const store = await open(t)
    const many = { ...POLICY, minSends: 1000 }
    await Promise.all(Array.from({ length: 20 }, () => store.admit('US', '+1201555', many, T0)))
    t.same(await store.stats('US', many, T0), { sent: 20, verified: 0, networks: 0 })
  })
}
