import t from 'tap'
import { MemoryAuditStore } from '../../src/audit/memory-audit-store.ts'
import { auditStoreContract } from './audit-store.ts'

const DAY_MS = 86_400_000

auditStoreContract(t, async () => new MemoryAuditStore({ retentionMs: 90 * DAY_MS, now: () => Date.parse('2030-01-02T00:00:00Z') }))

t.test('events older than the retention go, as MongoDB\'s TTL index lets them', async (t) => {
  let now = Date.parse('2030-01-01T00:00:00Z')
  const store = new MemoryAuditStore({ retentionMs: DAY_MS, now: () => now })
  const event = (id: string, at: number) => ({
    id, type: 'sign_in_succeeded' as const, userId: 'a'.repeat(24), identifier: null, ip: null, userAgent: null, requestId: null, at: new Date(at), amr: null, reason: null, actor: null
  })
  await store.insertMany([event('a'.repeat(24), now - DAY_MS - 1), event('b'.repeat(24), now - 1000)])
  t.same((await store.listByUser('a'.repeat(24), 10, null)).map((e) => e.id), ['b'.repeat(24)], 'past the retention: gone')
  now += DAY_MS
  t.same(await store.listByUser('a'.repeat(24), 10, null), [], 'and later the rest')
})
