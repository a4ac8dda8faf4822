import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { AuditEvent } from '../../src/audit/audit-event.ts'
import type { AuditStore } from '../../src/audit/audit-store.ts'

const T0 = Date.parse('2030-01-01T10:00:00Z')
const userA = 'aaaaaaaaaaaaaaaaaaaaaaaa'
const userB = 'bbbbbbbbbbbbbbbbbbbbbbbb'

const event = (userId: string | null, atMs: number, fields: Partial<AuditEvent> = {}): AuditEvent => ({
  id: randomBytes(12).toString('hex'),
  type: 'sign_in_succeeded',
  userId,
  identifier: 'j***@example.org',
  ip: '203.0.113.7',
  userAgent: 'test',
  requestId: 'req-1',
  at: new Date(atMs),
  amr: ['otp'],
  reason: null,
  actor: null,
  ...fields
})

/** The AuditStore contract of src/audit/audit-store.ts, run against every adapter. */
export function auditStoreContract (t: Test, create: () => Promise<AuditStore>): void {
  t.test('a user reads their own events only, newest first, every field as written', async (t) => {
    const store = await create()
    const mine = [event(userA, T0), event(userA, T0 + 2000, { type: 'session_ended', amr: null, reason: 'logout' }), event(userA, T0 + 1000)]
    await store.insertMany([...mine, event(userB, T0 + 500), event(null, T0 + 700, { type: 'sms_guard_block' })])
    const listed = await store.listByUser(userA, 10, null)
    t.same(listed.map((e) => e.at.getTime()), [T0 + 2000, T0 + 1000, T0])
    t.same(listed[0], mine[1], 'as written')
    t.same(await store.listByUser('cccccccccccccccccccccccc', 10, null), [], 'nobody else\'s')
  })

  t.test('pages: limit, then everything strictly after a position, ties broken by id', async (t) => {
    const store = await create()
    // five events in the same millisecond and two more: the order must still be total
    const events = [...Array.from({ length: 5 }, () => event(userA, T0)), event(userA, T0 - 1), event(userA, T0 + 1)]
    await store.insertMany(events)
    const seen: string[] = []
    let after = null
    for (let page = 0; page < 4; page++) {
      const listed: AuditEvent[] = await store.listByUser(userA, 3, after)
      seen.push(...listed.map((e) => e.id))
      const last = listed.at(-1)
      if (!last) break
      after = { at: last.at, id: last.id }
    }
    t.equal(seen.length, 7)
    t.equal(new Set(seen).size, 7, 'no event twice, none missed')
    const expected = [...events]
      .sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : -1))
      .map((e) => e.id)
    t.same(seen, expected)
  })

  t.test('an unordered batch: one duplicate id does not stop the others', async (t) => {
    const store = await create()
    const first = event(userA, T0)
    await store.insertMany([first])
    await t.rejects(store.insertMany([event(userA, T0 + 1), first, event(userA, T0 + 2)]))
    t.equal((await store.listByUser(userA, 10, null)).length, 3)
  })

  t.test('deleteByUser deletes every event of that user and nobody else\'s', async (t) => {
    const store = await create()
    const mine = 'dddddddddddddddddddddddd'
    await store.insertMany([event(mine, T0), event(mine, T0 + 1), event(userB, T0 + 2)])
    t.equal(await store.deleteByUser(mine), 2)
    t.same(await store.listByUser(mine, 10, null), [])
    t.ok((await store.listByUser(userB, 10, null)).length >= 1, 'others stay')
    t.equal(await store.deleteByUser(mine), 0)
  })
}
