import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server'
import { AppError, isAppError } from '../errors.ts'
import { NO_AUDIT, type AuditRecorder } from '../audit/audit-event.ts'
import type { MfaChallenges } from '../totp/mfa-challenges.ts'
import type { User, UserRepository } from '../users/user-repository.ts'
import type { PasskeyRepository } from '../passkeys/passkey-repository.ts'
import { invalidPasskey, type PasskeyAuthenticator } from '../passkeys/passkey-authenticator.ts'
import type { WebAuthnCeremonies } from '../passkeys/webauthn-ceremonies.ts'
import type { SignedIn } from './login-service.ts'
import type { ClientInfo, SessionService } from './session-service.ts'

export interface PasskeyLoginOptions {
  ceremonies: WebAuthnCeremonies
  authenticator: PasskeyAuthenticator
  passkeys: PasskeyRepository
  users: UserRepository
  sessions: SessionService
  mfa: MfaChallenges
  now: () => Date
  audit?: AuditRecorder
}

const mfaTokenGone = () => new AppError('challenge_expired', { detail: 'The mfaToken has expired or was used; log in again.' })

/**
 * Signing in with a passkey: alone (a discoverable credential names its user; possession plus user verification
 * is multi-factor, so no TOTP step follows: amr `["webauthn"]`), or as the second factor of a login that proved
 * an email or phone (amr `[…first factor, "webauthn", "mfa"]`). Round trips: options, one R; verify, R take ∥ M
 * find, R×2 throttle, M counter update, M user read, M session insert.
 */
export class PasskeyLogin {
  readonly #options: PasskeyLoginOptions
  readonly #audit: AuditRecorder

  constructor (options: PasskeyLoginOptions) {
    this.#options = options
    this.#audit = options.audit ?? NO_AUDIT
  }

  /** Options without an allow list: the browser offers any passkey of this site (conditional UI too). */
  signInOptions (): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.#options.ceremonies.requestOptions({ purpose: 'sign_in', userId: null }, [])
  }

  async signIn (credential: AuthenticationResponseJSON, client: ClientInfo): Promise<SignedIn> {
    const { authenticator, users, now } = this.#options
    const passkey = await authenticator.verify(credential, { purpose: 'sign_in', userId: null }, client.ip)
    const user = await users.findById(passkey.userId)
    if (user?.status !== 'active') throw invalidPasskey()
    // a passkey proves neither identifier: the login is recorded on one already verified, never verifies one
    const kind = user.emailVerifiedAt !== null ? 'email' : user.phoneVerifiedAt !== null ? 'phone' : null
    const loggedIn = kind === null ? user : await users.recordLogin(user.id, kind, now()) ?? user
    return await this.#signedIn(loggedIn, ['webauthn'], client)
  }

  /** Options for the second factor of the pending login `mfaToken` names: only that user's passkeys. */
  async secondFactorOptions (mfaToken: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { mfa, passkeys, ceremonies } = this.#options
    const challenge = await mfa.find(mfaToken)
    if (challenge === null) throw mfaTokenGone()
    const allowed = await passkeys.listByUser(challenge.userId)
    if (allowed.length === 0) throw new AppError('not_found', { detail: 'The account has no passkey; complete the login with a code.' })
    return await ceremonies.requestOptions({ purpose: 'second_factor', userId: challenge.userId, mfaToken }, allowed)
  }

  /**
   * Completes the login `mfaToken` names with a passkey. The token is taken first, so parallel completions use it
   * once; a refused passkey puts it back, as a wrong code does.
   */
  async completeSecondFactor (
    mfaToken: string, credential: AuthenticationResponseJSON, client: ClientInfo
  ): Promise<SignedIn> {
    const { mfa, authenticator, users, now } = this.#options
    const challenge = await mfa.take(mfaToken)
    if (challenge === null) throw mfaTokenGone()
    try {
      await authenticator.verify(credential, { purpose: 'second_factor', userId: challenge.userId, mfaToken }, client.ip)
    } catch (error) {
      if (isAppError(error) && (error.code === 'invalid_passkey' || error.code === 'rate_limited')) await mfa.giveBack(mfaToken, challenge)
      throw error
    }
    const user = await users.recordLogin(challenge.userId, challenge.kind, now())
    if (user === null || user.status !== 'active') throw invalidPasskey()
    return await this.#signedIn(user, [...challenge.amr, 'webauthn', 'mfa'], client)
  }

  async #signedIn (user: User, amr: string[], client: ClientInfo): Promise<SignedIn> {
    const pair = await this.#options.sessions.open(user.id, amr, client, user.appMetadata)
    this.#audit.record('sign_in_succeeded', { userId: user.id, identifier: user.email ?? user.phone, amr })
    return { ...pair, user }
  }
}
