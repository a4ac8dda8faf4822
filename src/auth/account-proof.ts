import { AppError, isAppError } from '../errors.ts'
import type { TotpAuthenticator } from '../totp/totp-authenticator.ts'
import type { ReauthProofs } from './reauth-proofs.ts'

/** Who asks, as their access token says. */
export interface Caller {
  userId: string
  sessionId: string
  /** epoch seconds of the session's sign-in; undefined for a token that does not say */
  authTime: number | undefined
}

/** What a caller may show, besides a recent sign-in, to prove they hold the account. */
export interface AccountProofInput {
  /** from completeReauthentication (a step-up code) */
  reauthToken?: string | undefined
  /** a code of the user's active authenticator app, or a recovery code */
  totpCode?: string | undefined
}

export interface AccountProofOptions {
  proofs: ReauthProofs
  totp: Pick<TotpAuthenticator, 'verifySecondFactor'>
  /** a sign-in (the token's auth_time) younger than this is proof enough */
  recentSignInSeconds: number
  now: () => Date
}

export const reauthenticationRequired = (detail: string) => new AppError('reauthentication_required', { detail })

/**
 * Proof that the caller holds the account, not just one of its access tokens (which may have been stolen): a
 * sign-in within `recentSignInSeconds`, a step-up proof for this session, or a code of the authenticator app.
 * Asked before anything that binds a way in to the account: an email or phone, an authenticator app.
 */
export class AccountProof {
  readonly #options: AccountProofOptions

  constructor (options: AccountProofOptions) {
    this.#options = options
  }

  /** Resolves when the caller showed proof; 403 reauthentication_required otherwise, `action` saying what needs it. */
  async require (caller: Caller, { reauthToken, totpCode }: AccountProofInput, action: string): Promise<void> {
    if (this.isRecentSignIn(caller) || this.hasStepUp(caller, reauthToken)) return
    if (totpCode === undefined) {
      throw reauthenticationRequired(reauthToken === undefined
        ? `${action} needs proof: a reauthToken from POST /v1/me/reauth/verify, a totpCode, or a sign-in within the last ${Math.round(this.#options.recentSignInSeconds / 60)} minutes.`
        : 'The reauthToken is not valid for this session, or has expired.')
    }
    try {
      await this.#options.totp.verifySecondFactor(caller.userId, totpCode)
    } catch (error) {
      if (isAppError(error) && error.code === 'invalid_code') throw reauthenticationRequired('The authenticator code is not correct.')
      throw error
    }
  }

  /** A step-up proof (a code just sent to one of the account's identifiers) that is live for this session. */
  hasStepUp (caller: Caller, reauthToken: string | undefined): boolean {
    return reauthToken !== undefined && this.#options.proofs.isValid(reauthToken, caller.userId, caller.sessionId)
  }

  isRecentSignIn (caller: Caller): boolean {
    const { recentSignInSeconds, now } = this.#options
    return caller.authTime !== undefined && now().getTime() / 1000 - caller.authTime < recentSignInSeconds
  }
}
