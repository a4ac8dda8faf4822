import type { DeliveryLogger } from '../delivery/delivery.ts'
import type { Notifier } from '../delivery/notices.ts'
import type { TotpAuthenticator } from '../totp/totp-authenticator.ts'
import type { User } from '../users/user-repository.ts'
import { reauthenticationRequired, type AccountProof, type Caller } from './account-proof.ts'

/** how long an owner can remove an app someone else added, with a step-up code instead of a code of that app */
export const RECENT_AUTHENTICATOR_DAYS = 7

export interface AuthenticatorEnrolmentOptions {
  totp: Pick<TotpAuthenticator, 'confirmEnrolment' | 'remove' | 'removeRecentlyAdded'>
  accountProof: AccountProof
  notifier: Notifier
}

/** How the caller asks to remove the app: a code of it (or a recovery code), or a step-up proof. */
export type RemovalProof = { code: string, reauthToken?: undefined } | { reauthToken: string, code?: undefined }

/**
 * Binding an authenticator app to an account, and unbinding it. Binding is a way in, so it needs the same proof
 * as changing a sign-in identifier (an access token alone may be stolen), and the account is told. An app added
 * in the last RECENT_AUTHENTICATOR_DAYS can be removed with a step-up code to the account's own email or phone,
 * so an owner who did not add it needs no code of it.
 */
export class AuthenticatorEnrolment {
  readonly #options: AuthenticatorEnrolmentOptions

  constructor (options: AuthenticatorEnrolmentOptions) {
    this.#options = options
  }

  /** Activates the pending app after proof and a first code of it; answers the recovery codes. */
  async confirm (
    caller: Caller, user: User, code: string, reauthToken: string | undefined, logger: DeliveryLogger
  ): Promise<string[]> {
    const { totp, accountProof } = this.#options
    // before the code is checked: a refused caller spends none of the app's attempts
    const recoveryCodes = await totp.confirmEnrolment(user.id, code, () =>
      accountProof.require(caller, { reauthToken }, 'Adding an authenticator app'))
    await this.#tell(user, logger)
    return recoveryCodes
  }

  async remove (caller: Caller, proof: RemovalProof): Promise<void> {
    const { totp, accountProof } = this.#options
    if (proof.code !== undefined) return await totp.remove(caller.userId, proof.code)
    if (!accountProof.hasStepUp(caller, proof.reauthToken)) {
      throw reauthenticationRequired('The reauthToken is not valid for this session, or has expired.')
    }
    await totp.removeRecentlyAdded(caller.userId, RECENT_AUTHENTICATOR_DAYS * 24 * 3600 * 1000)
  }

  /** The account's email (else its phone) hears of the new app. Never fails the enrolment. */
  async #tell (user: User, logger: DeliveryLogger): Promise<void> {
    const [channel, to] = user.email !== null ? ['email' as const, user.email] : ['sms' as const, user.phone]
    if (to === null) return
    await this.#options.notifier.notify({ kind: 'authenticator_added', channel, to, locale: user.locale, days: RECENT_AUTHENTICATOR_DAYS })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not queue the notice of an added authenticator'))
  }
}
