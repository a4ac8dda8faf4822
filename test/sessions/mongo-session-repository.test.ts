import { randomBytes } from 'node:crypto'
import t from 'tap'
import { Types } from 'mongoose'
import { MongoSessionRepository } from '../../src/sessions/mongo-session-repository.ts'
import { newSessionId } from '../../src/sessions/tokens.ts'
import { connectTestMongo } from '../helpers/mongo.ts'

// What the contract suite cannot see: indexes, the FerretDB mode's rotation lock and what a crash leaves behind.

const connection = await connectTestMongo(t)
// the lock's clock: real time, moved forward where a test needs a lock to turn stale
let clockOffsetMs = 0
const sessions = new MongoSessionRepository(connection, { compat: 'ferretdb', rotationLock: { waitMs: 100, now: () => Date.now() + clockOffsetMs } })
await sessions.init()
const locks = connection.collection('session_rotation_locks')

const hash = () => randomBytes(32).toString('hex')
const T0 = new Date('2030-01-01T00:00:00Z')
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000)

async function newSession () {
  const tokenHash = hash()
  const session = await sessions.create({ id: newSessionId(), userId: randomBytes(12).toString('hex'), tokenHash, amr: ['otp'], expiresAt: at(3600), now: T0 })
  const rotation = (tokenHash: string, seconds: number, generation = 0) =>
    ({
      sessionId: session.id,
      generation,
      tokenHash,
      newHash: hash(),
      now: at(seconds),
      expiresAt: at(seconds + 3600),
      graceSeconds: 0
    })
  return { session, tokenHash, rotation }
}

t.test('init creates the userId index, the TTL index where the server has them, and can run again', async (t) => {
  // the indexes an older version made for lookups by hash go in a migration (test/migrations.test.ts), not here
  await sessions.init()
  const indexes = await connection.collection('sessions').indexes()
  t.notOk(indexes.some((index) => 'tokenHash' in index.key || 'previousHashes.hash' in index.key), 'no index on hashes')
  t.ok(indexes.some((index) => index.key.userId === 1), 'userId')
  const ttl = indexes.some((index) => index.key.expiresAt === 1 && index.expireAfterSeconds === 0)
  t.equal(sessions.ttlIndex, ttl, `ttlIndex reports what the server did (${ttl ? 'TTL index made' : 'no TTL indexes here'})`)
})

t.test('the session document keeps the current hash and generation only, whatever the number of rotations', async (t) => {
  const { session, tokenHash, rotation } = await newSession()
  let current = tokenHash
  for (let i = 1; i <= 25; i++) {
    const next = rotation(current, i, i - 1)
    await sessions.rotate(next)
    current = next.newHash
  }
  const stored = await connection.collection('sessions').findOne({ _id: new Types.ObjectId(session.id) })
  t.equal(stored?.tokenHash, current)
  t.equal(stored?.generation, 25)
  t.notOk('previousHashes' in (stored ?? {}))
})

t.test('locks are released after every rotation', async (t) => {
  const { tokenHash, rotation } = await newSession()
  await Promise.all(Array.from({ length: 5 }, () => sessions.rotate(rotation(tokenHash, 1))))
  t.equal(await locks.countDocuments({}), 0)
})

t.test('a lock held by a rotation in flight makes a parallel caller wait, then answer invalid', async (t) => {
  const { session, tokenHash, rotation } = await newSession()
  await locks.insertOne({ _id: tokenHash as never, takenAt: new Date() })
  t.same(await sessions.rotate(rotation(tokenHash, 1)), { outcome: 'invalid' }, 'gave up waiting for the holder')
  // no elapsed-time check (it flaked under load): what matters is that a fresh lock is waited on, not broken
  t.ok(await locks.findOne({ _id: tokenHash as never }), 'the holder\'s fresh lock is still there')
  t.equal(await sessions.isActive(session.id, at(2)), true, 'nothing revoked')
  await locks.deleteOne({ _id: tokenHash as never })
  t.equal((await sessions.rotate(rotation(tokenHash, 3))).outcome, 'rotated', 'works once released')
})

t.test('a stale lock left by a crash before the swap is broken', async (t) => {
  const { session, tokenHash, rotation } = await newSession()
  await locks.insertOne({ _id: tokenHash as never, takenAt: new Date() })
  const next = rotation(tokenHash, 1)
  clockOffsetMs += 10_001
  t.teardown(() => { clockOffsetMs = 0 })
  t.match(await sessions.rotate(next), { outcome: 'rotated', session: { id: session.id, tokenHash: next.newHash } })
  t.equal(await locks.countDocuments({ _id: tokenHash as never }), 0)
})

t.test('a lock left by a crash after the swap does not matter', async (t) => {
  const { tokenHash, rotation } = await newSession()
  const next = rotation(tokenHash, 1)
  await sessions.rotate(next)
  await locks.insertOne({ _id: tokenHash as never, takenAt: new Date() })
  t.equal((await sessions.rotate(rotation(next.newHash, 2, 1))).outcome, 'rotated', 'the successor rotates')
  t.equal((await sessions.rotate(rotation(tokenHash, 3))).outcome, 'reused', 'the old token is still caught as reuse')
})

t.test('expired sessions stay invalid while the document is still there (no TTL monitor needed)', async (t) => {
  const { session, tokenHash, rotation } = await newSession()
  t.ok(await connection.collection('sessions').findOne({ _id: new Types.ObjectId(session.id) }), 'document present')
  t.same(await sessions.rotate({ ...rotation(tokenHash, 3600), now: at(3600) }), { outcome: 'invalid' })
  t.equal(await sessions.isActive(session.id, at(3600)), false)
})
