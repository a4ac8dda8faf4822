import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { Passkey, PasskeyRepository } from '../../src/passkeys/passkey-repository.ts'

/** Makes a ready (initialised) repository; the MongoDB one shares a database per file, so ids are unique. */
export type MakePasskeyRepository = (t: Test) => Promise<PasskeyRepository>

const userId = () => randomBytes(12).toString('hex')
const CREATED = new Date('2030-01-01T00:00:00Z')
const USED = new Date('2030-01-02T00:00:00Z')

const passkey = (user: string, fields: Partial<Passkey> = {}): Passkey => ({
  id: randomBytes(12).toString('base64url'),
  userId: user,
  credentialId: randomBytes(32).toString('base64url'),
  publicKey: randomBytes(77).toString('base64url'),
  counter: 0,
  transports: ['internal', 'hybrid'],
  backedUp: true,
  name: 'MacBook',
  createdAt: CREATED,
  lastUsedAt: null,
  ...fields
})

/** The PasskeyRepository contract (src/passkeys/passkey-repository.ts), run against every adapter. */
export function passkeyRepositoryContract (t: Test, make: MakePasskeyRepository): void {
  t.test('init is idempotent; a passkey is stored as given and found by its credential id', async (t) => {
    const repository = await make(t)
    await repository.init()
    const user = userId()
    t.same(await repository.listByUser(user), [])
    const first = passkey(user)
    const second = passkey(user, { createdAt: USED, counter: 7, backedUp: false, transports: [] })
    t.equal(await repository.add(first, 10), 'added')
    t.equal(await repository.add(second, 10), 'added')
    t.same(await repository.findByCredentialId(first.credentialId), first)
    t.same(await repository.listByUser(user), [first, second], 'oldest first')
    t.equal(await repository.findByCredentialId(randomBytes(32).toString('base64url')), null)
  })

  t.test('a credential id is registered once, across users', async (t) => {
    const repository = await make(t)
    const stored = passkey(userId())
    t.equal(await repository.add(stored, 10), 'added')
    t.equal(await repository.add(passkey(userId(), { credentialId: stored.credentialId }), 10), 'duplicate')
    t.equal(await repository.add(passkey(stored.userId, { credentialId: stored.credentialId }), 10), 'duplicate')
  })

  t.test('a user has at most maxPerUser passkeys, also when added concurrently; a removal frees a place', async (t) => {
    const repository = await make(t)
    const user = userId()
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => repository.add(passkey(user), 3)))
    t.equal(outcomes.filter((outcome) => outcome === 'added').length, 3)
    t.equal(outcomes.filter((outcome) => outcome === 'limit_reached').length, 3)
    const list = await repository.listByUser(user)
    t.equal(list.length, 3)
    t.equal(await repository.add(passkey(user), 3), 'limit_reached')
    t.equal(await repository.add(passkey(userId()), 3), 'added', 'another user is not counted')
    t.ok(await repository.remove(user, list[0]!.id))
    t.equal(await repository.add(passkey(user), 3), 'added')
  })

  t.test('recordUse moves the counter only from the value checked', async (t) => {
    const repository = await make(t)
    const stored = passkey(userId(), { counter: 5 })
    await repository.add(stored, 10)
    t.equal(await repository.recordUse(stored.credentialId, 4, 9, USED), false, 'a stale counter')
    t.equal(await repository.recordUse(stored.credentialId, 5, 6, USED), true)
    t.match(await repository.findByCredentialId(stored.credentialId), { counter: 6, lastUsedAt: USED })
    t.equal(await repository.recordUse(stored.credentialId, 5, 7, USED), false, 'the second of two uses of one counter')
    t.equal(await repository.recordUse(randomBytes(8).toString('base64url'), 0, 1, USED), false, 'unknown')
  })

  t.test('rename and remove act on the user\'s own passkey only', async (t) => {
    const repository = await make(t)
    const user = userId()
    const stored = passkey(user)
    await repository.add(stored, 10)
    t.equal(await repository.rename(userId(), stored.id, 'theirs'), null)
    t.match(await repository.rename(user, stored.id, 'Phone'), { id: stored.id, name: 'Phone' })
    t.equal(await repository.rename(user, 'nope', 'x'), null)
    t.equal(await repository.remove(userId(), stored.id), false)
    t.equal(await repository.remove(user, stored.id), true)
    t.equal(await repository.remove(user, stored.id), false)
    t.equal(await repository.findByCredentialId(stored.credentialId), null)
  })

  t.test('removeAll deletes every passkey of the user and no other', async (t) => {
    const repository = await make(t)
    const user = userId()
    const other = passkey(userId())
    await Promise.all([repository.add(passkey(user), 10), repository.add(passkey(user), 10), repository.add(other, 10)])
    t.equal(await repository.removeAll(user), 2)
    t.same(await repository.listByUser(user), [])
    t.same(await repository.listByUser(other.userId), [other])
  })
}
