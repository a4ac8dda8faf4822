import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { AppError } from '../../src/errors.ts'
import type { UserRepository } from '../../src/users/user-repository.ts'

/** Makes a ready (initialised) repository; the MongoDB one shares a database per file, so values are unique. */
export type MakeUserRepository = (t: Test) => Promise<UserRepository>

const email = () => `user-${randomBytes(6).toString('hex')}@example.com`
const phone = () => `+4474${String(10_000_000 + Math.floor(Math.random() * 89_999_999))}`

/** The UserRepository contract (src/users/user-repository.ts), run against every adapter. */
export function userRepositoryContract (t: Test, make: MakeUserRepository): void {
  t.test('init is idempotent', async (t) => {
    const users = await make(t)
    await users.init()
    await users.init()
    const { created } = await users.findOrCreateByIdentifier('email', email())
    t.equal(created, true)
  })

  t.test('findOrCreateByIdentifier creates once, then finds', async (t) => {
    const users = await make(t)
    const address = email()
    const first = await users.findOrCreateByIdentifier('email', address, { locale: 'fr-FR' })
    t.equal(first.created, true)
    t.match(first.user, {
      id: /^[0-9a-f]{24}$/,
      email: address,
      phone: null,
      emailVerifiedAt: null,
      phoneVerifiedAt: null,
      name: null,
      locale: 'fr-FR',
      status: 'active',
      lastLoginAt: null,
      mfaEnrolled: false
    })
    t.type(first.user.createdAt, Date)
    t.type(first.user.updatedAt, Date)
    const second = await users.findOrCreateByIdentifier('email', address, { locale: 'de-DE' })
    t.equal(second.created, false)
    t.same(second.user, first.user, 'the existing user, defaults ignored')
    t.same(await users.findById(first.user.id), first.user)
    t.same(await users.findByIdentifier('email', address), first.user)
  })

  t.test('findOrCreateByIdentifier with loginAt creates a verified, logged-in user; a found one is untouched', async (t) => {
    const users = await make(t)
    const address = email()
    const at = new Date('2030-02-01T10:00:00Z')
    const first = await users.findOrCreateByIdentifier('email', address, { locale: 'fr-FR', loginAt: at })
    t.equal(first.created, true)
    t.match(first.user, { email: address, phone: null, phoneVerifiedAt: null, locale: 'fr-FR', status: 'active' })
    t.same(first.user.emailVerifiedAt, at)
    t.same(first.user.lastLoginAt, at)
    t.same(await users.findById(first.user.id), first.user)
    const second = await users.findOrCreateByIdentifier('email', address, { loginAt: new Date('2030-02-02T10:00:00Z') })
    t.equal(second.created, false)
    t.same(second.user, first.user, 'found: loginAt ignored')
    const byPhone = await users.findOrCreateByIdentifier('phone', phone(), { loginAt: at })
    t.match(byPhone.user, { email: null, emailVerifiedAt: null })
    t.same(byPhone.user.phoneVerifiedAt, at)
    const unverified = await users.findOrCreateByIdentifier('email', email())
    t.match(unverified.user, { emailVerifiedAt: null, lastLoginAt: null }, 'without loginAt: nothing verified')
  })

  t.test('phone identifiers and defaults', async (t) => {
    const users = await make(t)
    const number = phone()
    const { user, created } = await users.findOrCreateByIdentifier('phone', number)
    t.equal(created, true)
    t.match(user, { email: null, phone: number, locale: null })
    t.same(await users.findByIdentifier('phone', number), user)
    t.equal(await users.findByIdentifier('email', number), null, 'kinds are separate namespaces')
  })

  t.test('unknown and malformed ids read as no user', async (t) => {
    const users = await make(t)
    for (const id of ['', 'nope', 'f'.repeat(24), '0'.repeat(24), 'x'.repeat(24), '{"$ne":null}', 'abcdefghijkl']) {
      t.equal(await users.findById(id), null, JSON.stringify(id))
      t.equal(await users.recordLogin(id, 'email', new Date()), null)
      t.equal(await users.updateProfile(id, { name: 'x' }), null)
      t.equal(await users.setStatus(id, 'disabled'), null)
    }
    t.equal(await users.findByIdentifier('email', email()), null)
  })

  t.test('20 concurrent findOrCreate calls for one new identifier make one user', async (t) => {
    const users = await make(t)
    const address = email()
    const results = await Promise.all(Array.from({ length: 20 }, () => users.findOrCreateByIdentifier('email', address)))
    t.equal(results.filter((result) => result.created).length, 1, 'exactly one created')
    const ids = new Set(results.map((result) => result.user.id))
    t.equal(ids.size, 1, 'all got the same user')
    t.equal((await users.findByIdentifier('email', address))?.id, [...ids][0])
  })

  t.test('recordLogin sets lastLoginAt and a first verification only', async (t) => {
    const users = await make(t)
    const { user } = await users.findOrCreateByIdentifier('email', email())
    const first = new Date('2030-01-01T10:00:00Z')
    const second = new Date('2030-01-02T10:00:00Z')
    const once = await users.recordLogin(user.id, 'email', first)
    t.same(once?.lastLoginAt, first)
    t.same(once?.emailVerifiedAt, first)
    const twice = await users.recordLogin(user.id, 'email', second)
    t.same(twice?.lastLoginAt, second)
    t.same(twice?.emailVerifiedAt, first, 'the first verification stays')
    const byPhone = await users.recordLogin(user.id, 'phone', second)
    t.equal(byPhone?.phoneVerifiedAt, null, 'no phone, nothing to verify')
    t.same(await users.findById(user.id), byPhone)
  })

  t.test('beginLogin records the login of an active user who still holds the identifier', async (t) => {
    const users = await make(t)
    const address = email()
    const { user } = await users.findOrCreateByIdentifier('email', address)
    const at = new Date('2030-01-01T10:00:00Z')
    const step = await users.beginLogin(user.id, 'email', address, at, { secondFactor: true })
    t.equal(step.outcome, 'logged_in')
    t.match(step.outcome === 'logged_in' && step.user, { id: user.id, lastLoginAt: at, emailVerifiedAt: at })
    t.same(await users.findById(user.id), step.outcome === 'logged_in' ? step.user : null, 'stored as returned')
  })

  t.test('beginLogin refuses unknown, disabled, and an identifier that moved; nothing is written', async (t) => {
    const users = await make(t)
    const address = email()
    const { user } = await users.findOrCreateByIdentifier('email', address)
    const at = new Date('2030-01-01T10:00:00Z')
    t.same(await users.beginLogin('0123456789abcdef01234567', 'email', address, at, { secondFactor: false }), { outcome: 'refused' }, 'unknown id')
    t.same(await users.beginLogin('nope', 'email', address, at, { secondFactor: false }), { outcome: 'refused' }, 'malformed id')
    t.same(await users.beginLogin(user.id, 'email', email(), at, { secondFactor: false }), { outcome: 'refused' }, 'another address')
    t.same(await users.beginLogin(user.id, 'phone', phone(), at, { secondFactor: false }), { outcome: 'refused' }, 'another kind')
    await users.setStatus(user.id, 'disabled')
    t.same(await users.beginLogin(user.id, 'email', address, at, { secondFactor: false }), { outcome: 'refused' }, 'disabled')
    t.equal((await users.findById(user.id))?.lastLoginAt, null, 'no login recorded')
  })

  t.test('beginLogin asks for a second factor of an enrolled user, only when asked to', async (t) => {
    const users = await make(t)
    const address = email()
    const { user } = await users.findOrCreateByIdentifier('email', address)
    t.equal((await users.setMfaEnrolled(user.id, true))?.mfaEnrolled, true)
    const at = new Date('2030-01-01T10:00:00Z')
    const asked = await users.beginLogin(user.id, 'email', address, at, { secondFactor: true })
    t.match(asked, { outcome: 'second_factor', user: { id: user.id, mfaEnrolled: true, lastLoginAt: null } })
    t.equal((await users.findById(user.id))?.lastLoginAt, null, 'nothing recorded before the second factor')
    t.match(await users.beginLogin(user.id, 'email', address, at, { secondFactor: false }), { outcome: 'logged_in', user: { lastLoginAt: at } })
    t.equal((await users.setMfaEnrolled(user.id, false))?.mfaEnrolled, false)
    t.equal((await users.beginLogin(user.id, 'email', address, at, { secondFactor: true })).outcome, 'logged_in')
    t.equal(await users.setMfaEnrolled('0123456789abcdef01234567', true), null, 'unknown user')
  })

  t.test('updateProfile sets given members, null clears, undefined keeps', async (t) => {
    const users = await make(t)
    const { user } = await users.findOrCreateByIdentifier('email', email(), { locale: 'en-GB' })
    const named = await users.updateProfile(user.id, { name: 'Ada Lovelace' })
    t.match(named, { name: 'Ada Lovelace', locale: 'en-GB' })
    t.ok(named!.updatedAt.getTime() >= user.updatedAt.getTime())
    const cleared = await users.updateProfile(user.id, { locale: null })
    t.match(cleared, { name: 'Ada Lovelace', locale: null })
    const both = await users.updateProfile(user.id, { name: null, locale: 'pt-BR' })
    t.match(both, { name: null, locale: 'pt-BR' })
    t.same(await users.updateProfile(user.id, {}), await users.findById(user.id))
  })

  t.test('attachIdentifier adds a second kind', async (t) => {
    const users = await make(t)
    const { user } = await users.findOrCreateByIdentifier('email', email())
    const number = phone()
    const at = new Date('2030-03-01T00:00:00Z')
    const attached = await users.attachIdentifier(user.id, 'phone', number, at)
    t.match(attached, { id: user.id, email: user.email, phone: number, emailVerifiedAt: null })
    t.same(attached.phoneVerifiedAt, at)
    t.equal((await users.findByIdentifier('phone', number))?.id, user.id)
    t.equal((await users.findByIdentifier('email', user.email!))?.id, user.id)
    t.same(await users.findById(user.id), attached)
  })

  t.test('attachIdentifier replaces and releases the old identifier', async (t) => {
    const users = await make(t)
    const old = email()
    const { user } = await users.findOrCreateByIdentifier('email', old)
    const replacement = email()
    const at = new Date('2030-03-02T00:00:00Z')
    const attached = await users.attachIdentifier(user.id, 'email', replacement, at)
    t.match(attached, { id: user.id, email: replacement })
    t.same(attached.emailVerifiedAt, at)
    t.equal((await users.findByIdentifier('email', replacement))?.id, user.id)
    t.equal(await users.findByIdentifier('email', old), null, 'the old address is free')
    const other = await users.findOrCreateByIdentifier('email', old)
    t.equal(other.created, true, 'and someone else can take it')
    t.not(other.user.id, user.id)
  })

  t.test('attachIdentifier refuses an identifier another user owns', async (t) => {
    const users = await make(t)
    const { user: alice } = await users.findOrCreateByIdentifier('email', email())
    const { user: bob } = await users.findOrCreateByIdentifier('email', email())
    const error = await t.rejects(users.attachIdentifier(alice.id, 'email', bob.email!, new Date())) as unknown
    t.ok(error instanceof AppError && error.code === 'conflict', 'AppError conflict')
    t.same(await users.findById(alice.id), alice, 'alice unchanged')
    t.equal((await users.findByIdentifier('email', bob.email!))?.id, bob.id, 'bob keeps it')
  })

  t.test('attachIdentifier of what the user holds fills a missing verification only', async (t) => {
    const users = await make(t)
    const { user } = await users.findOrCreateByIdentifier('email', email())
    const first = new Date('2030-04-01T00:00:00Z')
    const again = await users.attachIdentifier(user.id, 'email', user.email!, first)
    t.same(again.emailVerifiedAt, first)
    const later = await users.attachIdentifier(user.id, 'email', user.email!, new Date('2030-05-01T00:00:00Z'))
    t.same(later.emailVerifiedAt, first)
    t.equal((await users.findByIdentifier('email', user.email!))?.id, user.id)
  })

  t.test('attachIdentifier for a user that does not exist', async (t) => {
    const users = await make(t)
    for (const id of ['0'.repeat(24), 'nope']) {
      const error = await t.rejects(users.attachIdentifier(id, 'email', email(), new Date())) as unknown
      t.ok(error instanceof AppError && error.code === 'unauthorized', 'AppError unauthorized')
    }
  })

  t.test('setStatus disables and re-enables; lookups still find the user', async (t) => {
    const users = await make(t)
    const { user } = await users.findOrCreateByIdentifier('email', email())
    t.equal((await users.setStatus(user.id, 'disabled'))?.status, 'disabled')
    t.equal((await users.findByIdentifier('email', user.email!))?.status, 'disabled')
    const again = await users.findOrCreateByIdentifier('email', user.email!)
    t.match(again, { created: false, user: { id: user.id, status: 'disabled' } })
    t.equal((await users.setStatus(user.id, 'active'))?.status, 'active')
  })

  t.test('returned users are copies', async (t) => {
    const users = await make(t)
    const { user } = await users.findOrCreateByIdentifier('email', email())
    user.name = 'mutated'
    user.createdAt.setTime(0)
    const stored = await users.findById(user.id)
    t.equal(stored?.name, null)
    t.not(stored?.createdAt.getTime(), 0)
  })

  t.test('create: a new unverified user with its appMetadata; conflict when the identifier is held', async (t) => {
    const users = await make(t)
    const address = email()
    const user = await users.create('email', address, { locale: 'de', appMetadata: { role: 'editor', tags: ['a'] } })
    t.match(user, { id: /^[0-9a-f]{24}$/, email: address, phone: null, emailVerifiedAt: null, locale: 'de', status: 'active', mfaEnrolled: false, appMetadata: { role: 'editor', tags: ['a'] }, userMetadata: {} })
    t.same(await users.findById(user.id), user, 'as stored')
    await t.rejects(users.create('email', address), { code: 'conflict' })
    const byPhone = await users.create('phone', phone())
    t.same([byPhone.appMetadata, byPhone.userMetadata, byPhone.locale], [{}, {}, null])
  })

  t.test('updateProfile replaces appMetadata and userMetadata whole', async (t) => {
    const users = await make(t)
    const { user } = await users.findOrCreateByIdentifier('email', email())
    t.same([user.appMetadata, user.userMetadata], [{}, {}])
    await users.updateProfile(user.id, { appMetadata: { role: 'a', nested: { x: 1 } } })
    const updated = await users.updateProfile(user.id, { appMetadata: { plan: 'pro' }, userMetadata: { theme: 'dark' } })
    t.same([updated?.appMetadata, updated?.userMetadata], [{ plan: 'pro' }, { theme: 'dark' }])
    t.same((await users.findById(user.id))?.appMetadata, { plan: 'pro' })
  })

  t.test('list: newest first, filtered exactly, paged after an id', async (t) => {
    const users = await make(t)
    const created = []
    for (let index = 0; index < 3; index++) created.push((await users.findOrCreateByIdentifier('email', email())).user)
    const ids = created.map((user) => user.id)
    const all = (await users.list({ limit: 100_000 })).map((user) => user.id).filter((id) => ids.includes(id))
    t.same(all, [...ids].reverse(), 'newest first')
    const [newest, middle, oldest] = [ids[2] as string, ids[1] as string, ids[0] as string]
    const page = (await users.list({ limit: 100_000, after: newest })).map((user) => user.id)
    t.notOk(page.includes(newest))
    t.ok(page.includes(middle) && page.includes(oldest))
    t.same((await users.list({ limit: 1, email: created[1]?.email ?? '' })).map((user) => user.id), [middle])
    t.same(await users.list({ limit: 10, email: created[1]?.email ?? '', after: oldest }), [], 'only older than after')
    await users.setStatus(middle, 'disabled')
    t.same((await users.list({ limit: 10, email: created[1]?.email ?? '', status: 'disabled' })).map((user) => user.id), [middle])
    t.same(await users.list({ limit: 10, email: created[0]?.email ?? '', status: 'disabled' }), [])
    t.same(await users.list({ limit: 10, after: 'not-an-id' }), [], 'a malformed cursor: no more users')
    const number = phone()
    const withPhone = await users.create('phone', number)
    t.same((await users.list({ limit: 10, phone: number })).map((user) => user.id), [withPhone.id])
  })

  t.test('delete: the user and its identifiers go; unknown reads as null', async (t) => {
    const users = await make(t)
    const address = email()
    const { user } = await users.findOrCreateByIdentifier('email', address)
    await users.attachIdentifier(user.id, 'phone', phone(), new Date())
    const deleted = await users.delete(user.id)
    t.equal(deleted?.id, user.id)
    t.equal(await users.findById(user.id), null)
    t.equal(await users.findByIdentifier('email', address), null)
    t.equal(await users.delete(user.id), null)
    t.equal(await users.delete('nope'), null)
    const again = await users.findOrCreateByIdentifier('email', address)
    t.equal(again.created, true, 'the identifier is free')
    t.not(again.user.id, user.id, 'under a new id')
  })
}
