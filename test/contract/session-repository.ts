import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { Rotation, Session, SessionRepository } from '../../src/sessions/session-repository.ts'
import { newSessionId } from '../../src/sessions/tokens.ts'

/** Makes a ready (initialised) repository; the MongoDB one shares a database per file, so values are unique. */
export type MakeSessionRepository = (t: Test) => Promise<SessionRepository>

const hash = () => randomBytes(32).toString('hex')
const userId = () => randomBytes(12).toString('hex')
const T0 = new Date('2030-01-01T00:00:00Z')
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000)
const DAY = 86_400

/** A refresh token as the store sees it: its generation and hash. */
interface Token { generation: number, hash: string }
/** The token a rotation hands out when it wins. */
const successor = (rotation: Rotation): Token => ({ generation: rotation.generation + 1, hash: rotation.newHash })

/** Tap options of the tests an adapter cannot pass where it runs: `races` (MongoDB's, on FerretDB) is skipped. */
export interface SessionContractLimits { races?: { skip?: string } }

/** The SessionRepository contract (src/sessions/session-repository.ts), run against every adapter. */
export function sessionRepositoryContract (
  t: Test, make: MakeSessionRepository, { races: racy = {} }: SessionContractLimits = {}
): void {
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
    /** a rotation of this session presenting `token` (the first one by default, generation 0) */
    const rotation = (token: Token | string, seconds: number, graceSeconds = 0, newHash = hash()): Rotation => {
      const { generation, hash: presented } = typeof token === 'string' ? { generation: 0, hash: token } : token
      return {
        sessionId: session.id,
        generation,
        tokenHash: presented,
        newHash,
        now: at(seconds),
        expiresAt: at(seconds + DAY),
        graceSeconds
      }
    }
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
    await t.rejects(sessions.create({
      id: session.id, userId: userId(), tokenHash: hash(), amr: [], expiresAt: at(DAY), now: T0
    }))
    for (const malformed of ['', 'nope', 'abcdefghijkl', 'x'.repeat(24)]) {
      await t.rejects(sessions.create({
        id: malformed, userId: userId(), tokenHash: hash(), amr: [], expiresAt: at(DAY), now: T0
      }), JSON.stringify(malformed))
    }
    t.same(await sessions.findById(session.id), session, 'the session holding the id is untouched')
  })

  t.test('rotate replaces the hash, counts the generation, and moves lastUsedAt and expiresAt', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    t.equal(session.generation, 0, 'a new session is generation 0')
    const first = rotation(tokenHash, 60)
    const result = await sessions.rotate(first)
    t.equal(result.outcome, 'rotated')
    if (result.outcome !== 'rotated') return
    t.match(result.session, {
      id: session.id, tokenHash: first.newHash, generation: 1, revokedAt: null
    })
    t.same(result.session.lastUsedAt, at(60))
    t.same(result.session.expiresAt, at(60 + DAY))
    t.same(result.session.createdAt, T0)
    t.same(await sessions.findById(session.id), result.session)
    const second = rotation(successor(first), 120)
    t.match(await sessions.rotate(second), { outcome: 'rotated', session: { tokenHash: second.newHash, generation: 2 } })
  })

  t.test('an earlier generation is reuse: the whole session is revoked', async (t) => {
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
    t.same(await sessions.rotate(rotation(successor(first), 3602)), { outcome: 'invalid' }, 'the current token is dead too')
    t.same(await sessions.rotate(rotation(tokenHash, 3603)), { outcome: 'invalid' }, 'a revoked family only answers invalid')
  })

  t.test('without grace, a reuse whose clock reading predates the rotation is still reuse', async (t) => {
    const { sessions, tokenHash, rotation } = await setup(t)
    await sessions.rotate(rotation(tokenHash, 60))
    t.equal((await sessions.rotate(rotation(tokenHash, 59))).outcome, 'reused')
  })

  t.test('unknown hashes, generations and sessions are invalid', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    t.same(await sessions.rotate(rotation(hash(), 1)), { outcome: 'invalid' }, 'the current generation, another hash')
    t.same(await sessions.rotate(rotation('', 1)), { outcome: 'invalid' })
    t.same(await sessions.rotate(rotation({ generation: 1, hash: tokenHash }, 1)), { outcome: 'invalid' }, 'a later generation')
    const other = await another(sessions, session.userId, T0)
    t.same(await sessions.rotate(rotation(other.tokenHash, 1)), { outcome: 'invalid' }, 'another session\'s hash')
    for (const sessionId of [newSessionId(), '', 'nope', 'abcdefghijkl', '{"$ne":null}']) {
      t.same(await sessions.rotate({ ...rotation(tokenHash, 1), sessionId }), { outcome: 'invalid' }, JSON.stringify(sessionId))
    }
    t.equal(await sessions.isActive(session.id, at(2)), true, 'nothing revoked')
    t.equal((await sessions.rotate(rotation(tokenHash, 3))).outcome, 'rotated')
  })

  t.test('grace: the generation just before, whose successor was stored moments ago, gets the current session unchanged', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    const winner = rotation(tokenHash, 60, 5)
    await sessions.rotate(winner)
    // a parallel caller derives the same successor from the same token
    const late = rotation(tokenHash, 64, 5, winner.newHash)
    const result = await sessions.rotate(late)
    t.equal(result.outcome, 'rotated')
    if (result.outcome === 'rotated') {
      t.equal(result.session.id, session.id)
      t.equal(result.session.tokenHash, winner.newHash, 'the successor')
      t.equal(result.session.generation, 1)
      t.same(result.session.lastUsedAt, at(60), 'unchanged')
    }
    t.equal(await sessions.isActive(session.id, at(65)), true)
    t.equal((await sessions.rotate(rotation(successor(winner), 66))).outcome, 'rotated', 'the successor rotates')
  })

  t.test('grace is only for the successor just stored: another successor, or an older generation, is reuse', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    await sessions.rotate(rotation(tokenHash, 60, 5))
    t.equal((await sessions.rotate(rotation(tokenHash, 61, 5))).outcome, 'reused', 'a successor that is not the stored one')
    t.equal(await sessions.isActive(session.id, at(62)), false)

    const two = await setup(t)
    const first = two.rotation(two.tokenHash, 60, 5)
    await two.sessions.rotate(first)
    await two.sessions.rotate(two.rotation(successor(first), 61, 5))
    t.equal((await two.sessions.rotate(two.rotation(two.tokenHash, 62, 5, first.newHash))).outcome, 'reused', 'two generations back')
  })

  t.test('grace ends: after graceSeconds the same presentation is reuse', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    const winner = rotation(tokenHash, 60, 5)
    await sessions.rotate(winner)
    t.equal((await sessions.rotate(rotation(tokenHash, 65, 5, winner.newHash))).outcome, 'reused', 'exactly graceSeconds later')
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
    for (const attempt of attempts) t.same(await sessions.rotate(rotation(successor(attempt), 62)), { outcome: 'invalid' })
  })

  // every rotation writes the same successor, so this holds where parallel writers both match too
  t.test('10 parallel rotations of one token with grace: all share one successor', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    const newHash = hash()
    const attempts = Array.from({ length: 10 }, () => rotation(tokenHash, 60, 5, newHash))
    const results = await Promise.all(attempts.map((attempt) => sessions.rotate(attempt)))
    t.ok(results.every((result) => result.outcome === 'rotated'), 'all rotated')
    const successors = new Set(results.map((result) => result.outcome === 'rotated' ? `${result.session.id}/${result.session.tokenHash}/${result.session.generation}` : 'none'))
    t.same([...successors], [`${session.id}/${newHash}/1`], 'one session, one successor')
    t.equal((await sessions.listActive(session.userId, at(61))).length, 1, 'one live chain')
    t.equal((await sessions.rotate(rotation({ generation: 1, hash: newHash }, 62))).outcome, 'rotated')
  })

  t.test('reuse is caught whatever the age of the token: 50 rotations later', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t)
    let token: Token = { generation: 0, hash: tokenHash }
    for (let i = 1; i <= 50; i++) {
      const next = rotation(token, i)
      t.equal((await sessions.rotate(next)).outcome, 'rotated')
      token = successor(next)
    }
    t.equal((await sessions.rotate(rotation(tokenHash, 100))).outcome, 'reused', 'generation 0 of 50')
    t.equal(await sessions.isActive(session.id, at(100)), false)
  })

  t.test('expiry: an expired session is invalid for every hash and not active', async (t) => {
    const { sessions, session, tokenHash, rotation } = await setup(t, { expiresIn: 600 })
    const first = rotation(tokenHash, 60)
    first.expiresAt = at(600)
    await sessions.rotate(first)
    t.equal(await sessions.isActive(session.id, at(599)), true)
    t.equal(await sessions.isActive(session.id, at(600)), false, 'expiresAt itself is past')
    t.same(await sessions.rotate(rotation(successor(first), 600)), { outcome: 'invalid' })
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

  t.test('revokeByToken: the current token or an earlier generation, owner only', async (t) => {
    const { sessions, session, tokenHash } = await setup(t)
    const token = (sessionId: string, tokenHash: string, generation = 0) => ({ sessionId, generation, tokenHash })
    const other = await another(sessions, session.userId, T0)
    t.equal(await sessions.revokeByToken(token(session.id, tokenHash), userId(), at(1)), false, 'another user')
    t.equal(await sessions.revokeByToken(token(session.id, hash()), session.userId, at(1)), false, 'unknown hash')
    t.equal(await sessions.revokeByToken(token(session.id, tokenHash, 1), session.userId, at(1)), false, 'a later generation')
    t.equal(await sessions.revokeByToken(token(session.id, other.tokenHash), session.userId, at(1)), false, 'another session\'s hash')
    t.equal(await sessions.revokeByToken(token(other.id, tokenHash, 0), session.userId, at(1)), false, 'another session\'s id')
    for (const id of [newSessionId(), '', 'nope', 'abcdefghijkl']) {
      t.equal(await sessions.revokeByToken(token(id, tokenHash), session.userId, at(1)), false, JSON.stringify(id))
    }
    t.equal(await sessions.isActive(other.id, at(1)), true)
    t.equal(await sessions.revokeByToken(token(session.id, tokenHash), session.userId, at(2)), true)
    t.equal(await sessions.isActive(session.id, at(3)), false)
    t.equal(await sessions.revokeByToken(token(session.id, tokenHash), session.userId, at(4)), false, 'already revoked')

    const rotated = await setup(t)
    await rotated.sessions.rotate(rotated.rotation(rotated.tokenHash, 10))
    t.equal(await rotated.sessions.revokeByToken(token(rotated.session.id, rotated.tokenHash), rotated.session.userId, at(11)), true, 'an earlier generation')
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

  t.test('deleteByUser deletes every session of the user, live, revoked or expired, and nobody else\'s', async (t) => {
    const { sessions, session } = await setup(t)
    const other = await another(sessions, userId(), T0)
    const ended = await another(sessions, session.userId, T0)
    await sessions.revoke(ended.id, session.userId, T0)
    await another(sessions, session.userId, T0, at(1))
    t.equal(await sessions.deleteByUser(session.userId), 3)
    t.equal(await sessions.findById(session.id), null)
    t.equal(await sessions.findById(ended.id), null)
    t.same(await sessions.listActive(session.userId, T0), [])
    t.ok(await sessions.findById(other.id), 'another user\'s session stays')
    t.equal(await sessions.deleteByUser(session.userId), 0)
  })
}
