import t from 'tap'
import { MemorySessionRepository } from '../../src/sessions/memory-session-repository.ts'
import { newSessionId } from '../../src/sessions/tokens.ts'

// The contract suite covers behaviour; this covers the memory adapter's stand-in for the TTL monitor.

t.test('expired sessions are purged, at most once a minute, and their ids freed', async (t) => {
  const sessions = new MemorySessionRepository()
  const T0 = Date.parse('2030-01-01T00:00:00Z')
  const at = (seconds: number) => new Date(T0 + seconds * 1000)
  const create = (id: string, expiresIn: number, now: number, userId = 'u') =>
    sessions.create({ id, userId, tokenHash: `hash-${id}`, amr: ['otp'], expiresAt: at(now + expiresIn), now: at(now) })
  const short = await create(newSessionId(), 10, 0)
  const long = await create(newSessionId(), 3600, 1)
  await create(newSessionId(), 3600, 30)
  t.ok(await sessions.findById(short.id), 'expired but not yet purged (less than a minute since the last sweep)')
  await create(newSessionId(), 3600, 61)
  t.equal(await sessions.findById(short.id), null, 'purged')
  t.ok(await sessions.findById(long.id), 'live sessions stay')
  const reused = await create(short.id, 3600, 62, 'v')
  t.equal(reused.userId, 'v', 'the purged id is free again')
})
