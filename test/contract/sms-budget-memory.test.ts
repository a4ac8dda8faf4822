import t from 'tap'
import { MemorySmsBudget } from '../../src/delivery/memory-sms-budget.ts'
import { smsBudgetContract } from './sms-budget.ts'

smsBudgetContract(t, async () => {
  let now = Date.parse('2026-01-01T00:00:00Z')
  return { store: new MemorySmsBudget(() => now), elapse: async (ms) => { now += ms } }
})

t.test('lapsed counters are dropped on the next take, so memory holds one hour per country', async (t) => {
  let now = 0
  const store = new MemorySmsBudget(() => now)
  await store.take('US', 1, 5, 1000)
  now = 1000
  await store.take('US', 2, 5, 1000)
  now = 0
  t.ok(await store.take('US', 1, 1, 1000), 'turning the clock back does not revive the old counter: it is gone')
})
