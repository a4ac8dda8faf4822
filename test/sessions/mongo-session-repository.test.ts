import { randomBytes } from 'node:crypto'
import t from 'tap'
import { Types } from 'mongoose'
import { MongoSessionRepository } from '../../src/sessions/mongo-session-repository.ts'
import { newSessionId } from '../../src/sessions/tokens.ts'
import { connectTestMongo } from '../helpers/mongo.ts'
import { expireAfterSeconds } from '../helpers/ferretdb-shims.ts'

// What the contract suite cannot see: the indexes, and the document a session keeps.

const connection = await connectTestMongo(t)
const sessions = new MongoSessionRepository(connection)
await sessions.init()

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

t.test('init creates the userId index and the TTL index on expiresAt, and can run again', async (t) => {
  await sessions.init()
  const collection = connection.db!.collection('sessions')
  const indexes = await collection.indexes()
  t.notOk(indexes.some((index) => 'tokenHash' in index.key || 'previousHashes.hash' in index.key), 'no index on hashes')
  t.ok(indexes.some((index) => index.key.userId === 1), 'userId')
  t.ok(indexes.some((index) => index.name === 'expiresAt_ttl' && index.key.expiresAt === 1), 'expiresAt')
  t.equal(await expireAfterSeconds(collection, 'expiresAt_ttl'), 0, 'a session leaves when it expires')
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

t.test('expired sessions stay invalid while the document is still there (no TTL monitor needed)', async (t) => {
  const { session, tokenHash, rotation } = await newSession()
  t.ok(await connection.collection('sessions').findOne({ _id: new Types.ObjectId(session.id) }), 'document present')
  t.same(await sessions.rotate({ ...rotation(tokenHash, 3600), now: at(3600) }), { outcome: 'invalid' })
  t.equal(await sessions.isActive(session.id, at(3600)), false)
})
