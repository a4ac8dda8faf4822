import t from 'tap'
import { MemorySessionRepository } from '../../src/sessions/memory-session-repository.ts'

// The contract suite covers behaviour; this covers the memory adapter's stand-in for the TTL monitor.

t.test('expired sessions are purged, at most once a minute, and their hashes freed', async (t) => {
  const sessions = new MemorySessionRepository()
  const T0 = Date.parse('2030-01-01T00:00:00Z')
  const at = (seconds: number) => new Date(T0 + seconds * 1000)
  const short = await sessions.create({ userId: 'u', tokenHash: 'short', amr: ['otp'], expiresAt: at(10), now: at(0) })
  const long = await sessions.create({ userId: 'u', tokenHash: 'long', amr: ['otp'], expiresAt: at(3600), now: at(1) })
  await sessions.create({ userId: 'u', tokenHash: 'soon', amr: ['otp'], expiresAt: at(3600), now: at(30) })
  t.ok(await sessions.findById(short.id), 'expired but not yet purged (less than a minute since the last sweep)')
  await sessions.create({ userId: 'u', tokenHash: 'later', amr: ['otp'], expiresAt: at(3600), now: at(61) })
  t.equal(await sessions.findById(short.id), null, 'purged')
  t.ok(await sessions.findById(long.id), 'live sessions stay')
  const reused = await sessions.create({ userId: 'v', tokenHash: 'short', amr: ['otp'], expiresAt: at(3600), now: at(62) })
  t.equal(reused.userId, 'v', 'the purged hash is free again')
})
