import type tap from 'tap'
import type { Outbox, OutboxMessage, OutboxOptions } from '../../src/delivery/outbox.ts'

/** One adapter under test, plus what the suite needs to watch time pass. */
export interface OutboxHarness {
  outbox: Outbox
  /** make this much time pass for the stored messages */
  elapse (ms: number): Promise<void>
}

const message = (to: string, n: number, channel: OutboxMessage['channel'] = 'sms'): OutboxMessage => ({
  to,
  channel,
  code: String(100000 + n),
  text: `Your code is ${100000 + n}`,
  sentAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString()
})

/** The Outbox contract of src/delivery/outbox.ts, run against every adapter. */
export function outboxContract (t: typeof tap, create: (options?: OutboxOptions) => Promise<OutboxHarness>): void {
  t.test('an unknown destination has no messages', async (t) => {
    const { outbox } = await create()
    t.same(await outbox.list('nobody@example.org'), [])
  })

  t.test('a message comes back exactly as added', async (t) => {
    const { outbox } = await create()
    const added = { ...message('jane@example.org', 1, 'email'), text: 'Votre code est 100001 — ÄÖÜ ✓\n\n@example.org #100001' }
    await outbox.add(added)
    t.strictSame(await outbox.list('jane@example.org'), [added])
  })

  t.test('newest first', async (t) => {
    const { outbox } = await create()
    for (const n of [1, 2, 3]) await outbox.add(message('+12015550123', n))
    t.same((await outbox.list('+12015550123')).map((item) => item.code), ['100003', '100002', '100001'])
  })

  t.test('keeps only the last 100 messages of a destination', async (t) => {
    const { outbox } = await create()
    for (let n = 1; n <= 105; n++) await outbox.add(message('+12015550123', n))
    const listed = await outbox.list('+12015550123')
    t.equal(listed.length, 100)
    t.equal(listed[0]?.code, '100105', 'the newest is kept')
    t.equal(listed[99]?.code, '100006', 'the five oldest are gone')
  })

  t.test('maxMessages sets the limit', async (t) => {
    const { outbox } = await create({ maxMessages: 2 })
    for (const n of [1, 2, 3]) await outbox.add(message('+12015550123', n))
    t.same((await outbox.list('+12015550123')).map((item) => item.code), ['100003', '100002'])
  })

  t.test('destinations are kept apart and matched exactly', async (t) => {
    const { outbox } = await create()
    await outbox.add(message('jane@example.org', 1, 'email'))
    await outbox.add(message('john@example.org', 2, 'email'))
    await outbox.add(message('+12015550123', 3))
    t.same((await outbox.list('jane@example.org')).map((item) => item.code), ['100001'])
    t.same((await outbox.list('john@example.org')).map((item) => item.code), ['100002'])
    t.same(await outbox.list('Jane@example.org'), [], 'no normalisation happens here')
  })

  t.test('a destination\'s messages live ttlSeconds after its last message', async (t) => {
    const { outbox, elapse } = await create({ ttlSeconds: 60 })
    await outbox.add(message('+12015550123', 1))
    await elapse(40_000)
    t.equal((await outbox.list('+12015550123')).length, 1, 'alive before the TTL')
    await outbox.add(message('+12015550123', 2))
    await elapse(40_000)
    t.equal((await outbox.list('+12015550123')).length, 2, 'the new message gave both another TTL')
    await elapse(21_000)
    t.same(await outbox.list('+12015550123'), [], 'gone once the TTL has passed since the last message')
  })

  t.test('the default TTL is one hour', async (t) => {
    const { outbox, elapse } = await create()
    await outbox.add(message('jane@example.org', 1))
    await elapse(3_599_000)
    t.equal((await outbox.list('jane@example.org')).length, 1, 'alive just before an hour')
    await elapse(2000)
    t.same(await outbox.list('jane@example.org'), [], 'gone just after')
  })

  t.test('remove forgets a destination\'s messages, and only its', async (t) => {
    const { outbox } = await create()
    await outbox.add(message('gone@example.org', 1, 'email'))
    await outbox.add(message('gone@example.org', 2, 'email'))
    await outbox.add(message('kept@example.org', 3, 'email'))
    await outbox.remove('gone@example.org')
    t.same(await outbox.list('gone@example.org'), [])
    t.equal((await outbox.list('kept@example.org')).length, 1)
    await outbox.remove('nobody@example.org')
  })
}
