import { randomBytes } from 'node:crypto'
import t from 'tap'
import { Types } from 'mongoose'
import { MongoUserRepository } from '../../src/users/mongo-user-repository.ts'
import { connectTestMongo, testServer } from '../helpers/mongo.ts'

// What the contract suite cannot see: the indexes, and the documents users are kept in.

const connection = await connectTestMongo(t)
const users = new MongoUserRepository(connection)
await users.init()
const collection = connection.db!.collection('users')

const email = () => `stored-${randomBytes(6).toString('hex')}@example.com`

t.test('init makes one unique sparse index per identifier kind', async (t) => {
  const indexes = await collection.indexes()
  // FerretDB 1.x takes `sparse` and ignores it; MongoDB keeps it
  const sparse = await testServer() === 'mongodb' ? { sparse: true } : {}
  for (const field of ['email', 'phone']) {
    t.match(indexes.find((index) => index.name === `${field}_unique`), { key: { [field]: 1 }, unique: true, ...sparse }, field)
  }
})

t.test('a new user\'s document holds only the fields that have a value', async (t) => {
  const { user } = await users.findOrCreateByIdentifier('email', email())
  const stored = await collection.findOne({ _id: new Types.ObjectId(user.id) })
  t.same(Object.keys(stored ?? {}).sort(), ['_id', 'createdAt', 'email', 'mfaEnrolled', 'status', 'updatedAt'])
})

t.test('many users without a phone: the absent field does not collide', async (t) => {
  const created = await Promise.all([email(), email(), email()].map((address) => users.findOrCreateByIdentifier('email', address)))
  t.equal(new Set(created.map(({ user }) => user.id)).size, 3)
  t.ok(created.every(({ user }) => user.phone === null))
})

t.test('a document written with nulls, and without mfaEnrolled, reads as the same user', async (t) => {
  const _id = new Types.ObjectId()
  const now = new Date()
  const address = email()
  const unset = { emailVerifiedAt: null, phoneVerifiedAt: null, name: null, locale: null, lastLoginAt: null }
  await collection.insertOne({ _id, email: address, ...unset, status: 'active', createdAt: now, updatedAt: now })
  t.match(await users.findById(_id.toHexString()), { email: address, phone: null, ...unset, mfaEnrolled: false })
})

t.test('a returning login records lastLoginAt and moves updatedAt, in one write', async (t) => {
  const { user } = await users.findOrCreateByIdentifier('email', email(), { loginAt: new Date(Date.now() - 60_000) })
  const before = await collection.findOne({ _id: new Types.ObjectId(user.id) })
  const at = new Date()
  const step = await users.beginLogin(user.id, 'email', user.email!, at, { secondFactor: true })
  t.equal(step.outcome, 'logged_in')
  const stored = await collection.findOne({ _id: new Types.ObjectId(user.id) })
  t.same(stored?.lastLoginAt, at)
  t.ok(stored!.updatedAt.getTime() > before!.updatedAt.getTime(), 'updatedAt moved')
  t.same(Object.keys(stored ?? {}).sort(), Object.keys(before ?? {}).sort(), 'no other field written')
  t.match(step, { user: { id: user.id, lastLoginAt: at, updatedAt: stored!.updatedAt } })
})
