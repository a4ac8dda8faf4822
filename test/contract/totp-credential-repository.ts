import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { SealedSecret } from '../../src/totp/secret-box.ts'
import type { TotpCredentialRepository } from '../../src/totp/totp-credential-repository.ts'

/** Makes a ready (initialised) repository; the MongoDB one shares a database per file, so user ids are unique. */
export type MakeTotpCredentialRepository = (t: Test) => Promise<TotpCredentialRepository>

const userId = () => randomBytes(12).toString('hex')
const enrolmentId = () => randomBytes(12).toString('base64url')
const sealed = (): SealedSecret => ({ kid: 'k1', iv: randomBytes(12).toString('base64url'), ciphertext: randomBytes(20).toString('base64url'), tag: randomBytes(16).toString('base64url') })
const hashes = (count = 3) => Array.from({ length: count }, () => randomBytes(32).toString('base64url'))
const CREATED = new Date('2030-01-01T00:00:00Z')
const CONFIRMED = new Date('2030-01-01T00:05:00Z')

/** The TotpCredentialRepository contract (src/totp/totp-credential-repository.ts), run against every adapter. */
export function totpCredentialRepositoryContract (t: Test, make: MakeTotpCredentialRepository): void {
  /** a user with an active credential and its recovery code hashes */
  const activeUser = async (repository: TotpCredentialRepository, codes = hashes()) => {
    const user = userId()
    const enrolment = enrolmentId()
    await repository.savePending({ userId: user, enrolmentId: enrolment, secret: sealed(), createdAt: CREATED })
    await repository.activate(user, enrolment, codes, CONFIRMED)
    return { user, enrolment, codes }
  }

  t.test('init is idempotent; an unknown user has no credential', async (t) => {
    const repository = await make(t)
    await repository.init()
    t.equal(await repository.find(userId()), null)
    t.equal(await repository.remainingRecoveryCodes(userId()), 0)
  })

  t.test('a pending credential is stored as given, and replaced by the next one', async (t) => {
    const repository = await make(t)
    const user = userId()
    const first = { userId: user, enrolmentId: enrolmentId(), secret: sealed(), createdAt: CREATED }
    t.equal(await repository.savePending(first), true)
    t.same(await repository.find(user), { ...first, status: 'pending', recoveryCodeHashes: [], confirmedAt: null })
    const second = { ...first, enrolmentId: enrolmentId(), secret: sealed() }
    t.equal(await repository.savePending(second), true)
    t.match(await repository.find(user), { enrolmentId: second.enrolmentId, secret: second.secret, status: 'pending' })
    t.equal(await repository.activate(user, first.enrolmentId, hashes(), CONFIRMED), false, 'the replaced enrolment cannot be activated')
  })

  t.test('activate makes the pending credential active with its recovery codes', async (t) => {
    const repository = await make(t)
    const { user, enrolment, codes } = await activeUser(repository)
    t.match(await repository.find(user), { userId: user, enrolmentId: enrolment, status: 'active', recoveryCodeHashes: codes })
    t.same((await repository.find(user))?.confirmedAt, CONFIRMED)
    t.equal(await repository.remainingRecoveryCodes(user), codes.length)
    t.equal(await repository.activate(user, enrolment, hashes(), CONFIRMED), false, 'only a pending one')
    t.equal(await repository.savePending({ userId: user, enrolmentId: enrolmentId(), secret: sealed(), createdAt: CREATED }), false, 'no new enrolment over an active one')
    t.equal((await repository.find(user))?.enrolmentId, enrolment)
  })

  t.test('a recovery code is consumed once', async (t) => {
    const repository = await make(t)
    const { user, codes } = await activeUser(repository)
    t.equal(await repository.consumeRecoveryCode(user, codes[0]!), true)
    t.equal(await repository.consumeRecoveryCode(user, codes[0]!), false, 'not twice')
    t.equal(await repository.consumeRecoveryCode(user, hashes(1)[0]!), false, 'not a code of the set')
    t.equal(await repository.consumeRecoveryCode(userId(), codes[1]!), false, 'not for another user')
    t.equal(await repository.remainingRecoveryCodes(user), codes.length - 1)
  })

  t.test('of concurrent uses of one recovery code exactly one wins', async (t) => {
    const repository = await make(t)
    const { user, codes } = await activeUser(repository)
    const uses = await Promise.all(Array.from({ length: 8 }, () => repository.consumeRecoveryCode(user, codes[1]!)))
    t.equal(uses.filter(Boolean).length, 1)
  })

  t.test('recovery codes of a pending credential do not work', async (t) => {
    const repository = await make(t)
    const user = userId()
    await repository.savePending({ userId: user, enrolmentId: enrolmentId(), secret: sealed(), createdAt: CREATED })
    t.equal(await repository.consumeRecoveryCode(user, hashes(1)[0]!), false)
  })

  t.test('replacing the recovery codes invalidates the old set', async (t) => {
    const repository = await make(t)
    const { user, enrolment, codes } = await activeUser(repository)
    await repository.consumeRecoveryCode(user, codes[0]!)
    const next = hashes(4)
    t.equal(await repository.replaceRecoveryCodes(user, enrolmentId(), next), false, 'another enrolment changes nothing')
    t.equal(await repository.replaceRecoveryCodes(user, enrolment, next), true)
    t.equal(await repository.consumeRecoveryCode(user, codes[1]!), false, 'an old code')
    t.equal(await repository.remainingRecoveryCodes(user), 4)
    t.equal(await repository.consumeRecoveryCode(user, next[0]!), true, 'a new code')
    t.equal(await repository.remainingRecoveryCodes(user), 3)
  })

  t.test('remove deletes the credential of that enrolment and its codes', async (t) => {
    const repository = await make(t)
    const { user, enrolment, codes } = await activeUser(repository)
    t.equal(await repository.remove(user, enrolmentId()), false, 'another enrolment')
    t.ok(await repository.find(user))
    t.equal(await repository.remove(user, enrolment), true)
    t.equal(await repository.find(user), null)
    t.equal(await repository.consumeRecoveryCode(user, codes[0]!), false)
    t.equal(await repository.remove(user, enrolment), false, 'nothing left')
    const pending = { userId: user, enrolmentId: enrolmentId(), secret: sealed(), createdAt: CREATED }
    t.equal(await repository.savePending(pending), true, 'a new enrolment may start')
    t.equal(await repository.remove(user, pending.enrolmentId), true, 'a pending one can be removed too')
  })

  t.test('returned credentials are copies', async (t) => {
    const repository = await make(t)
    const { user, codes } = await activeUser(repository)
    const credential = await repository.find(user)
    credential!.recoveryCodeHashes.length = 0
    credential!.secret.kid = 'mutated'
    t.same((await repository.find(user))?.recoveryCodeHashes, codes)
    t.equal((await repository.find(user))?.secret.kid, 'k1')
  })
}
