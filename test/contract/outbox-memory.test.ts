import t from 'tap'
import { MemoryOutbox } from '../../src/delivery/memory-outbox.ts'
import { outboxContract } from './outbox.ts'

outboxContract(t, async (options) => {
  let now = Date.parse('2026-01-01T00:00:00Z')
  return {
    outbox: new MemoryOutbox({ ...options, now: () => now }),
    elapse: async (ms) => { now += ms }
  }
})

t.test('expired destinations are swept on the next add, so memory does not grow with them', async (t) => {
  let now = 0
  const outbox = new MemoryOutbox({ now: () => now, ttlSeconds: 10 })
  await outbox.add({ to: 'a@example.org', channel: 'email', code: '1', text: '1', sentAt: new Date(0).toISOString() })
  now = 10_000
  t.same(await outbox.list('a@example.org'), [], 'expired at the TTL')
  await outbox.add({ to: 'b@example.org', channel: 'email', code: '2', text: '2', sentAt: new Date(0).toISOString() })
  now = 0
  t.same(await outbox.list('a@example.org'), [], 'swept, not just hidden: turning the clock back does not revive it')
  t.equal((await outbox.list('b@example.org')).length, 1)
})

t.test('list returns copies', async (t) => {
  const outbox = new MemoryOutbox()
  await outbox.add({ to: 'a@example.org', channel: 'email', code: '1', text: '1', sentAt: new Date(0).toISOString() })
  const [first] = await outbox.list('a@example.org')
  if (first) first.code = 'changed'
  t.equal((await outbox.list('a@example.org'))[0]?.code, '1')
})
