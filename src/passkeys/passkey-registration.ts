import { randomBytes } from '../random-bytes.ts'
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import { AppError } from '../errors.ts'
import { NO_AUDIT, type AuditRecorder } from '../audit/audit-event.ts'
import type { DeliveryLogger } from '../delivery/delivery.ts'
import type { Notifier } from '../delivery/notices.ts'
import type { User } from '../users/user-repository.ts'
import type { AccountProof, Caller } from '../auth/account-proof.ts'
import type { Passkey, PasskeyRepository } from './passkey-repository.ts'
import type { WebAuthnCeremonies } from './webauthn-ceremonies.ts'

/** At most this many passkeys per user: enough for every device and a spare, few enough to list. */
export const MAX_PASSKEYS_PER_USER = 10

export interface PasskeyRegistrationOptions {
  ceremonies: WebAuthnCeremonies
  passkeys: PasskeyRepository
  accountProof: AccountProof
  notifier: Notifier
  now: () => Date
  audit?: AuditRecorder
}

const limitReached = () => new AppError('passkey_limit_reached', {
  detail: `An account has at most ${MAX_PASSKEYS_PER_USER} passkeys; remove one first.`
})
const notFound = () => new AppError('not_found', { detail: 'No such passkey.' })
const notVerified = (detail: string) => new AppError('invalid_passkey_registration', { detail })

/**
 * A signed-in user's passkeys. Adding one binds a way in to the account, so its options need the same proof as
 * changing a sign-in identifier (AccountProof); the options' challenge is bound to the user and answers once,
 * so the credential that answers it needs no second proof. The account is told of every passkey added.
 */
export class PasskeyRegistration {
  readonly #options: PasskeyRegistrationOptions
  readonly #audit: AuditRecorder

  constructor (options: PasskeyRegistrationOptions) {
    this.#options = options
    this.#audit = options.audit ?? NO_AUDIT
  }

  async options (
    caller: Caller, user: User, reauthToken: string | undefined
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const { accountProof, passkeys, ceremonies } = this.#options
    await accountProof.require(caller, { reauthToken }, 'Adding a passkey')
    const existing = await passkeys.listByUser(user.id)
    if (existing.length >= MAX_PASSKEYS_PER_USER) throw limitReached()
    return await ceremonies.creationOptions({ id: user.id, name: user.email ?? user.phone ?? user.id }, existing)
  }

  async register (
    user: User, credential: RegistrationResponseJSON, name: string | undefined, logger: DeliveryLogger
  ): Promise<Passkey> {
    const { ceremonies, passkeys, now } = this.#options
    const challenge = await ceremonies.takeChallenge(credential, { purpose: 'registration', userId: user.id })
    if (challenge === null) {
      throw notVerified('The challenge is unknown, expired or already answered; ask for new options.')
    }
    const registered = await ceremonies.verifyRegistration(credential, challenge)
    if (registered === null) throw notVerified('The credential does not answer the challenge for this site.')
    const createdAt = now()
    const passkey: Passkey = {
      id: randomBytes(12).toString('base64url'),
      userId: user.id,
      ...registered,
      name: name ?? defaultName(credential, createdAt),
      createdAt,
      lastUsedAt: null
    }
    const outcome = await passkeys.add(passkey, MAX_PASSKEYS_PER_USER)
    if (outcome === 'limit_reached') throw limitReached()
    if (outcome === 'duplicate') throw new AppError('conflict', { detail: 'This passkey is already registered.' })
    this.#audit.record('authenticator_added', { userId: user.id, reason: 'passkey' })
    await this.#tell(user, logger)
    return passkey
  }

  list (userId: string): Promise<Passkey[]> {
    return this.#options.passkeys.listByUser(userId)
  }

  async rename (userId: string, id: string, name: string): Promise<Passkey> {
    return await this.#options.passkeys.rename(userId, id, name) ?? (() => { throw notFound() })()
  }

  /** Removing a way in needs the same proof as adding one: a thief with a token must not strip the owner's. */
  async remove (caller: Caller, id: string, reauthToken: string | undefined): Promise<void> {
    await this.#options.accountProof.require(caller, { reauthToken }, 'Removing a passkey')
    if (!await this.#options.passkeys.remove(caller.userId, id)) throw notFound()
    this.#audit.record('authenticator_removed', { userId: caller.userId, reason: 'passkey' })
  }

  /** The account's email (else its phone) hears of the new passkey. Never fails the registration. */
  async #tell (user: User, logger: DeliveryLogger): Promise<void> {
    const [channel, to] = user.email !== null ? ['email' as const, user.email] : ['sms' as const, user.phone]
    if (to === null) return
    await this.#options.notifier.notify({ kind: 'passkey_added', channel, to, locale: user.locale })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not queue the notice of an added passkey'))
  }
}

/** "Passkey (platform) 2026-11-23": until the user names it. */
function defaultName (credential: RegistrationResponseJSON, at: Date): string {
  const where = credential.authenticatorAttachment === 'cross-platform' ? 'security key or phone' : 'this device'
  return `Passkey on ${where}, ${at.toISOString().slice(0, 10)}`
}
