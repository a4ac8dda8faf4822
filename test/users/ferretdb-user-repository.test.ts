import { randomBytes } from 'node:crypto'
import t from 'tap'
import { Types } from 'mongoose'
import { AppError } from '../../src/errors.ts'
import { FerretDbUserRepository } from '../../src/users/ferretdb-user-repository.ts'
import { connectTestMongo } from '../helpers/mongo.ts'

// The FerretDB mode (MONGODB_COMPAT=ferretdb): what a crash between the two writes of a create or an attach leaves
// behind, written directly, and what the repository makes of it. The contract suite covers the ordinary behaviour.

const connection = await connectTestMongo(t)
const users = new FerretDbUserRepository(connection)
await users.init()
const usersCollection = connection.collection('users')
const identities = connection.collection('identities')

const email = () => `crash-${randomBytes(6).toString('hex')}@example.com`
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000)

async function insertUser (fields: Record<string, unknown>): Promise<Types.ObjectId> {
  const _id = new Types.ObjectId()
  const now = new Date()
  await usersCollection.insertOne({
    _id,
    email: null,
    phone: null,
    emailVerifiedAt: null,
    phoneVerifiedAt: null,
    name: null,
    locale: null,
    status: 'active',
    lastLoginAt: null,
    createdAt: now,
    updatedAt: now,
    ...fields
  })
  return _id
}

t.test('init creates the identities index and the collections, and can run again', async (t) => {
  await users.init()
  const names = (await connection.db!.listCollections().toArray()).map((collection) => collection.name)
  t.ok(names.includes('users') && names.includes('identities'))
  const indexes = await identities.indexes()
  t.ok(indexes.some((index) => index.key.userId === 1 && index.key.kind === 1), 'userId+kind index')
})

t.test('concurrent creation leaves one user document, no orphans', async (t) => {
  const address = email()
  await Promise.all(Array.from({ length: 20 }, () => users.findOrCreateByIdentifier('email', address)))
  t.equal(await usersCollection.countDocuments({ email: address }), 1)
  t.equal(await identities.countDocuments({ _id: `email:${address}` as never }), 1)
})

t.test('a user whose identity was never claimed (crash after the insert) is unreachable', async (t) => {
  const address = email()
  const orphan = await insertUser({ email: address })
  t.equal(await users.findByIdentifier('email', address), null)
  const { user, created } = await users.findOrCreateByIdentifier('email', address)
  t.equal(created, true)
  t.not(user.id, orphan.toHexString())
  t.equal((await users.findByIdentifier('email', address))?.id, user.id)
})

t.test('an identity whose user does not hold the value is not a login', async (t) => {
  const address = email()
  const holder = await insertUser({ email: email() })
  await identities.insertOne({ _id: `email:${address}` as never, userId: holder, kind: 'email', claimedAt: minutesAgo(10) })
  t.equal(await users.findByIdentifier('email', address), null)
})

t.test('a stale claim (crash mid-attach, or a release not yet deleted) is taken over', async (t) => {
  const address = email()
  const previousOwner = await insertUser({ email: email() })
  await identities.insertOne({ _id: `email:${address}` as never, userId: previousOwner, kind: 'email', claimedAt: minutesAgo(10) })
  const { user, created } = await users.findOrCreateByIdentifier('email', address)
  t.equal(created, true)
  t.not(user.id, previousOwner.toHexString())
  t.equal((await users.findByIdentifier('email', address))?.id, user.id)
  t.match(await identities.findOne({ _id: `email:${address}` as never }), { userId: new Types.ObjectId(user.id) })
})

t.test('a claim to a user that does not exist is taken over once stale', async (t) => {
  const address = email()
  await identities.insertOne({ _id: `email:${address}` as never, userId: new Types.ObjectId(), kind: 'email', claimedAt: minutesAgo(10) })
  t.equal((await users.findOrCreateByIdentifier('email', address)).created, true)
})

t.test('a fresh claim by an attach in flight is respected', async (t) => {
  const address = email()
  const attaching = await insertUser({ email: email() })
  await identities.insertOne({ _id: `email:${address}` as never, userId: attaching, kind: 'email', claimedAt: new Date() })
  const error = await t.rejects(users.findOrCreateByIdentifier('email', address)) as unknown
  t.ok(error instanceof AppError && error.code === 'conflict')
  t.equal(await usersCollection.countDocuments({ email: address }), 0, 'the user made for the attempt is deleted')
  const other = await users.findOrCreateByIdentifier('email', email())
  const attachError = await t.rejects(users.attachIdentifier(other.user.id, 'email', address, new Date())) as unknown
  t.ok(attachError instanceof AppError && attachError.code === 'conflict')
})

t.test('an interrupted attach completes when retried', async (t) => {
  const { user } = await users.findOrCreateByIdentifier('email', email())
  const replacement = email()
  // crash after the claim, before the user update
  await identities.insertOne({ _id: `email:${replacement}` as never, userId: new Types.ObjectId(user.id), kind: 'email', claimedAt: minutesAgo(10) })
  t.equal(await users.findByIdentifier('email', replacement), null, 'not usable before the retry')
  const at = new Date('2030-06-01T00:00:00Z')
  const attached = await users.attachIdentifier(user.id, 'email', replacement, at)
  t.match(attached, { id: user.id, email: replacement })
  t.equal((await users.findByIdentifier('email', replacement))?.id, user.id)
  t.equal(await users.findByIdentifier('email', user.email!), null)
  t.equal(await identities.countDocuments({ userId: new Types.ObjectId(user.id) }), 1, 'only the new identity remains')
})

t.test('attach sweeps claims stranded by an earlier interrupted attach', async (t) => {
  const { user } = await users.findOrCreateByIdentifier('email', email())
  const stranded = email()
  await identities.insertOne({ _id: `email:${stranded}` as never, userId: new Types.ObjectId(user.id), kind: 'email', claimedAt: minutesAgo(10) })
  const final = email()
  await users.attachIdentifier(user.id, 'email', final, new Date())
  const left = await identities.find({ userId: new Types.ObjectId(user.id) }).toArray()
  t.same(left.map((identity) => identity._id), [`email:${final}`])
})

t.test('users without a phone do not collide (no unique index on users)', async (t) => {
  const created = await Promise.all([email(), email(), email()].map((address) => users.findOrCreateByIdentifier('email', address)))
  t.equal(new Set(created.map(({ user }) => user.id)).size, 3)
  t.ok(created.every(({ user }) => user.phone === null))
})
