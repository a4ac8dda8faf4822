import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { PREVIOUS_HASHES_KEPT, type Session, type SessionRepository } from '../../src/sessions/session-repository.ts'
import { newSessionId } from '../../src/sessions/tokens.ts'

/** Makes a ready (initialised) repository; the MongoDB one shares a database per file, so values are unique. */
export type MakeSessionRepository = (t: Test) => Promise<SessionRepository>

const hash = () => randomBytes(32).toString('hex')
const userId = () => randomBytes(12).toString('hex')
const T0 = new Date('2030-01-01T00:00:00Z')
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000)
const DAY = 86_400

/** What an adapter cannot promise where it runs (the MongoDB one on FerretDB): those tests are skipped with the reason. */
export interface SessionContractLimits { races: boolean, slice: boolean, reason: string }

/** The SessionRepository contract (src/sessions/session-repository.ts), run against every adapter. */
export function sessionRepositoryContract (t: Test, make: MakeSessionRepository, limits: SessionContractLimits = { races: true, slice: true, reason: '' }): void {
  const racy = limits.races ? {} : { skip: `parallel rotations: ${limits.reason}` }
  const capped = limits.slice ? {} : { skip: `$slice: ${limits.reason}` }
  async function setup (t: Test, overrides: { userId?: string, expiresIn?: number, now?: Date } = {}) {
    const sessions = await make(t)
    const tokenHash = hash()
    const now = overrides.now ?? T0
    const session = await sessions.create({
      id: newSessionId(),
      userId: overrides.userId ?? userId(),
      tokenHash,
      amr: ['otp', 'email'],
      expiresAt: new Date(now.getTime() + (overrides.expiresIn ?? DAY) * 1000),
      userAgent: 'tap',
      ip: '203.0.113.7',
      now
    })
    /** a rotation of this session presenting tokenHash */
    const rotation = (tokenHash: string, seconds: number, graceSeconds = 0) =>
      ({ sessionId: session.id, tokenHash, newHash: hash(), now: at(seconds), expiresAt: at(seconds + DAY), graceSeconds })
    return { sessions, session, tokenHash, rotation }
  }

  /** A session of the user, created at `now`, expiring at `expiresAt`. */
  const another = (sessions: SessionRepository, user: string, now: Date, expiresAt = at(DAY)) =>
    sessions.create({ id: newSessionId(), userId: user, tokenHash: hash(), amr: ['otp'], expiresAt, now })

  t.test('create returns an active session with the given id', async (t) => {
    const { sessions, session, tokenHash } = await setup(t)
    t.match(session, {
      id: /^[0-9a-f]{24}$/,
      tokenHash,
      amr: ['otp', 'email'],
      revokedAt: null,
      userAgent: 'tap',
      ip: '203.0.113.7'
    })
    t.equal(session.familyId, session.id)
    t.same(session.createdAt, T0)
    t.same(session.lastUsedAt, T0)
    t.same(session.expiresAt, at(DAY))
    t.same(await sessions.findById(session.id), session)
    t.equal(await sessions.isActive(session.id, T0), true)
  })

  t.test('create defaults userAgent and ip to null and refuses an id in use or malformed', async (t) => {
    const { sessions, session } = await setup(t)
    const id = newSessionId()
    const bare = await sessions.create({ id, userId: userId(), tokenHash: hash(), amr: ['otp', 'sms'], expiresAt: at(DAY), now: T0 })
    t.match(bare, { id, userAgent: null, ip: null })
    await t.rejects(sessions.create({ id: session.id, userId: userId(), tokenHash: hash(), amr: [], expiresAt: at(DAY), now: T0 }))
    for (const malformed of ['', 'nope', 'abcdefghijkl', 'x'.repeat(24)]) {
      await t.rejects(sessions.create({ id: malformed, userId: userId(), tokenHash: hash(), amr: [], expiresAt: at(DAY), now: T0 }), JSON.stringify(malformed))
    }
    t.same(await sessions.findById(session.id), session, 'the session holding the id is untouched')
  })

  t.test('rotate replaces the hash and moves lastUsedAt and expiresAt', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    const first = rotation(tokenHash, 60)
    const result = await sessions.rotate(first)
    t.equal(result.outcome, 'rotated')
    if (result.outcome !== 'rotated') return
    t.match(result.session, { id: session.id, familyId: session.id, tokenHash: first.newHash, revokedAt: null })
    t.same(result.session.lastUsedAt, at(60))
    t.same(result.session.expiresAt, at(60 + DAY))
    t.same(result.session.createdAt, T0)
    t.same(await sessions.findById(session.id), result.session)
    const second = rotation(first.newHash, 120)
    t.match(await sessions.rotate(second), { outcome: 'rotated', session: { tokenHash: second.newHash } })
  })

  t.test('a previous hash is reuse: the whole session is revoked', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    const first = rotation(tokenHash, 60)
    await sessions.rotate(first)
    const stolen = await sessions.rotate(rotation(tokenHash, 3600))
    t.equal(stolen.outcome, 'reused')
    if (stolen.outcome === 'reused') {
      t.equal(stolen.session.id, session.id)
      t.same(stolen.session.revokedAt, at(3600))
    }
    t.equal(await sessions.isActive(session.id, at(3601)), false)
    t.same((await sessions.findById(session.id))?.revokedAt, at(3600))
    t.same(await sessions.rotate(rotation(first.newHash, 3602)), { outcome: 'invalid' }, 'the current token is dead too')
    t.same(await sessions.rotate(rotation(tokenHash, 3603)), { outcome: 'invalid' }, 'a revoked family only answers invalid')
  })

  t.test('without grace, a reuse whose clock reading predates the rotation is still reuse', async (t) => {
    const { sessions, tokenHash, rotation } = await setup(t)
    await sessions.rotate(rotation(tokenHash, 60))
    t.equal((await sessions.rotate(rotation(tokenHash, 59))).outcome, 'reused')
  })

  t.test('unknown hashes and sessions are invalid', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    t.same(await sessions.rotate(rotation(hash(), 1)), { outcome: 'invalid' })
    t.same(await sessions.rotate(rotation('', 1)), { outcome: 'invalid' })
    const other = await another(sessions, session.userId, T0)
    t.same(await sessions.rotate(rotation(other.tokenHash, 1)), { outcome: 'invalid' }, 'another session\'s hash')
    for (const sessionId of [newSessionId(), '', 'nope', 'abcdefghijkl', '{"$ne":null}']) {
      t.same(await sessions.rotate({ ...rotation(tokenHash, 1), sessionId }), { outcome: 'invalid' }, JSON.stringify(sessionId))
    }
    t.equal(await sessions.isActive(session.id, at(2)), true, 'nothing revoked')
    t.equal((await sessions.rotate(rotation(tokenHash, 3))).outcome, 'rotated')
  })

  t.test('grace: a hash rotated moments ago gets the current session, unchanged', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    const winner = rotation(tokenHash, 60, 5)
    await sessions.rotate(winner)
    const late = rotation(tokenHash, 64, 5)
    const result = await sessions.rotate(late)
    t.equal(result.outcome, 'rotated')
    if (result.outcome === 'rotated') {
      t.equal(result.session.id, session.id)
      t.equal(result.session.tokenHash, winner.newHash, 'the successor, not the late caller\'s newHash')
      t.same(result.session.lastUsedAt, at(60))
    }
    t.same(await sessions.rotate(rotation(late.newHash, 65)), { outcome: 'invalid' }, 'the late newHash was never stored')
    t.equal(await sessions.isActive(session.id, at(65)), true)
    t.equal((await sessions.rotate(rotation(winner.newHash, 66))).outcome, 'rotated')
  })

  t.test('grace ends: after graceSeconds the same presentation is reuse', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    await sessions.rotate(rotation(tokenHash, 60, 5))
    t.equal((await sessions.rotate(rotation(tokenHash, 65, 5))).outcome, 'reused', 'exactly graceSeconds later')
    t.equal(await sessions.isActive(session.id, at(66)), false)
  })

  t.test('10 parallel rotations of one token without grace: one wins, the family is revoked', racy, async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    const attempts = Array.from({ length: 10 }, () => rotation(tokenHash, 60))
    const results = await Promise.all(attempts.map((attempt) => sessions.rotate(attempt)))
    const outcomes = results.map((result) => result.outcome)
    t.equal(outcomes.filter((outcome) => outcome === 'rotated').length, 1, 'exactly one rotated')
    t.ok(outcomes.includes('reused'), 'the others are reuse')
    t.equal(await sessions.isActive(session.id, at(61)), false, 'no live chain left')
    t.same(await sessions.listActive(session.userId, at(61)), [])
    for (const attempt of attempts) t.same(await sessions.rotate(rotation(attempt.newHash, 62)), { outcome: 'invalid' })
  })

  t.test('10 parallel rotations of one token with grace: all share one successor', racy, async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    const attempts = Array.from({ length: 10 }, () => rotation(tokenHash, 60, 5))
    const results = await Promise.all(attempts.map((attempt) => sessions.rotate(attempt)))
    t.ok(results.every((result) => result.outcome === 'rotated'), 'all rotated')
    const successors = new Set(results.map((result) => result.outcome === 'rotated' ? `${result.session.id}/${result.session.tokenHash}` : 'none'))
    t.equal(successors.size, 1, 'one session, one successor hash')
    const current = await sessions.findById(session.id)
    t.equal(attempts.filter((attempt) => attempt.newHash === current?.tokenHash).length, 1, 'it is the winner\'s newHash')
    t.equal((await sessions.listActive(session.userId, at(61))).length, 1, 'one live chain')
    const discarded = attempts.filter((attempt) => attempt.newHash !== current?.tokenHash)
    for (const attempt of discarded) t.same(await sessions.rotate(rotation(attempt.newHash, 62)), { outcome: 'invalid' })
  })

  t.test(`previous hashes are remembered up to ${PREVIOUS_HASHES_KEPT} rotations`, capped, async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    const hashes = [tokenHash]
    for (let i = 1; i <= PREVIOUS_HASHES_KEPT + 5; i++) {
      const next = rotation(hashes.at(-1)!, i)
      t.equal((await sessions.rotate(next)).outcome, 'rotated')
      hashes.push(next.newHash)
    }
    const forgotten = hashes[4]!
    const oldestKept = hashes[5]!
    t.same(await sessions.rotate(rotation(forgotten, 100)), { outcome: 'invalid' }, 'beyond the cap: unknown')
    t.equal(await sessions.isActive(session.id, at(100)), true)
    t.equal((await sessions.rotate(rotation(oldestKept, 101))).outcome, 'reused')
  })

  t.test('expiry: an expired session is invalid for every hash and not active', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t, { expiresIn: 600 })
    const first = rotation(tokenHash, 60)
    first.expiresAt = at(600)
    await sessions.rotate(first)
    t.equal(await sessions.isActive(session.id, at(599)), true)
    t.equal(await sessions.isActive(session.id, at(600)), false, 'expiresAt itself is past')
    t.same(await sessions.rotate(rotation(first.newHash, 600)), { outcome: 'invalid' })
    t.same(await sessions.rotate(rotation(tokenHash, 601)), { outcome: 'invalid' }, 'no reuse verdict after expiry')
    t.same(await sessions.listActive(session.userId, at(600)), [])
    t.equal(await sessions.revoke(session.id, session.userId, at(601)), false)
    t.equal((await sessions.findById(session.id))?.revokedAt ?? null, null)
  })

  t.test('listActive: the user\'s live sessions, most recently used first', async (t) => {
    const owner = userId()
    const { sessions, session: a, tokenHash: aHash, rotation } = await setup(t, { userId: owner })
    const b = await another(sessions, owner, at(10))
    const revoked = await another(sessions, owner, at(20))
    const expiring = await another(sessions, owner, at(30), at(300))
    await another(sessions, userId(), at(40))
    await sessions.revoke(revoked.id, owner, at(50))
    t.same((await sessions.listActive(owner, at(60))).map((session) => session.id), [expiring.id, b.id, a.id])
    await sessions.rotate(rotation(aHash, 400))
    t.same((await sessions.listActive(owner, at(400))).map((session) => session.id), [a.id, b.id])
    t.same(await sessions.listActive(userId(), at(400)), [])
  })

  t.test('revoke: only the owner, only once', async (t) => {
    const { sessions, session } = await setup(t)
    t.equal(await sessions.revoke(session.id, userId(), at(1)), false, 'another user')
    t.equal(await sessions.isActive(session.id, at(1)), true)
    t.equal(await sessions.revoke(session.id, session.userId, at(2)), true)
    t.equal(await sessions.isActive(session.id, at(3)), false)
    t.same((await sessions.findById(session.id))?.revokedAt, at(2))
    t.equal(await sessions.revoke(session.id, session.userId, at(4)), false, 'already revoked')
    t.same((await sessions.findById(session.id))?.revokedAt, at(2), 'first revocation time kept')
    for (const id of ['nope', '', '0'.repeat(24), 'abcdefghijkl']) {
      t.equal(await sessions.revoke(id, session.userId, at(5)), false)
      t.equal(await sessions.findById(id), null)
      t.equal(await sessions.isActive(id, at(5)), false)
    }
  })

  t.test('revokeByTokenHash: current or previous hash, owner only', async (t) => {
    const { sessions, session, tokenHash } = await setup(t)
    const other = await another(sessions, session.userId, T0)
    t.equal(await sessions.revokeByTokenHash(session.id, tokenHash, userId(), at(1)), false, 'another user')
    t.equal(await sessions.revokeByTokenHash(session.id, hash(), session.userId, at(1)), false, 'unknown hash')
    t.equal(await sessions.revokeByTokenHash(session.id, other.tokenHash, session.userId, at(1)), false, 'another session\'s hash')
    t.equal(await sessions.revokeByTokenHash(other.id, tokenHash, session.userId, at(1)), false, 'another session\'s id')
    for (const id of [newSessionId(), '', 'nope', 'abcdefghijkl']) {
      t.equal(await sessions.revokeByTokenHash(id, tokenHash, session.userId, at(1)), false, JSON.stringify(id))
    }
    t.equal(await sessions.isActive(other.id, at(1)), true)
    t.equal(await sessions.revokeByTokenHash(session.id, tokenHash, session.userId, at(2)), true)
    t.equal(await sessions.isActive(session.id, at(3)), false)
    t.equal(await sessions.revokeByTokenHash(session.id, tokenHash, session.userId, at(4)), false, 'already revoked')

    const rotated = await setup(t)
    await rotated.sessions.rotate(rotated.rotation(rotated.tokenHash, 10))
    t.equal(await rotated.sessions.revokeByTokenHash(rotated.session.id, rotated.tokenHash, rotated.session.userId, at(11)), true, 'a previous hash')
    t.equal(await rotated.sessions.isActive(rotated.session.id, at(12)), false)
  })

  t.test('revokeAll: every live session of the user, and only those', async (t) => {
    const owner = userId()
    const { sessions, session } = await setup(t, { userId: owner })
    await another(sessions, owner, T0)
    const expired = await another(sessions, owner, T0, at(5))
    const bystander = await another(sessions, userId(), T0)
    t.equal(await sessions.revokeAll(owner, at(10)), 2)
    t.same(await sessions.listActive(owner, at(11)), [])
    t.equal(await sessions.isActive(session.id, at(11)), false)
    t.equal((await sessions.findById(expired.id))?.revokedAt ?? null, null, 'expired sessions are left alone')
    t.equal(await sessions.isActive(bystander.id, at(11)), true)
    t.equal(await sessions.revokeAll(owner, at(12)), 0)
  })

  t.test('returned sessions are copies', async (t) => {
    const { sessions, session } = await setup(t)
    const copy: Session = session
    copy.amr.push('tampered')
    copy.expiresAt.setTime(0)
    const stored = await sessions.findById(session.id)
    t.same(stored?.amr, ['otp', 'email'])
    t.same(stored?.expiresAt, at(DAY))
  })
}
