import { createHmac, type KeyObject } from 'node:crypto'
import { randomBytes } from '../random-bytes.ts'
import { hmacKey } from '../hmac-key.ts'
import { Secret } from 'otpauth'
import { AppError } from '../errors.ts'
import { generateRecoveryCodes, hashRecoveryCode, isRecoveryCode } from './recovery-codes.ts'
import type { SecretBox } from './secret-box.ts'
import type { ThrottleLimits } from '../throttle/throttling.ts'
import type { TotpAttemptStore } from './totp-attempt-store.ts'
import type { TotpCredential, TotpCredentialRepository } from './totp-credential-repository.ts'
import { checkDecoy, STEP_TTL_MS, totpOf, validStep } from './totp-codes.ts'
import { alreadyActive, invalidCode, noAuthenticator, suspended } from './totp-errors.ts'

/** time to scan the QR code and type the first code */
export const ENROLMENT_TTL_SECONDS = 15 * 60

export type SecondFactorMethod = 'totp' | 'recovery'

export interface TotpStatus {
  status: 'none' | 'pending' | 'active'
  confirmedAt: Date | null
  recoveryCodesLeft: number
}

export interface TotpAuthenticatorOptions {
  credentials: TotpCredentialRepository
  attempts: TotpAttemptStore
  box: SecretBox
  /** shown by authenticator apps (APP_NAME) */
  issuer: string
  throttle: ThrottleLimits
  now: () => Date
  /** called (never awaited) when a user's wrong codes start a throttle wait, at most once per notice interval */
  onThrottled?: (userId: string) => void
  /** HMAC key naming identifiers without a user in attempt keys */
  subjectKey: string
  /**
   * Records on the user whether an app may be active (User.mfaEnrolled), so logins decide without reading the
   * credential: called with true before an activation and with false after a removal, so a crash between
   * leaves "maybe" (true), never a missed second factor.
   */
  markEnrolled?: (userId: string, enrolled: boolean) => Promise<unknown>
}

const NO_USER = '000000000000000000000000'

const sealContext = (credential: Pick<TotpCredential, 'userId' | 'enrolmentId'>) => `totp:${credential.userId}:${credential.enrolmentId}`

/**
 * Authenticator apps (TOTP) and recovery codes for one user at a time: enrolment, the second factor of a login,
 * TOTP as a login of its own, removal. Every code check counts into the per-subject throttling (TOTP_THROTTLE_*),
 * and a TOTP time step is accepted once per user. Recovery codes count into a subject of their own, so they keep
 * working while the user's TOTP codes are throttled or suspended, and a right one ends both.
 */
export class TotpAuthenticator {
  readonly #credentials: TotpCredentialRepository
  readonly #attempts: TotpAttemptStore
  readonly #box: SecretBox
  readonly #issuer: string
  readonly #throttle: ThrottleLimits
  readonly #onThrottled: (userId: string) => void
  readonly #now: () => Date
  readonly #subjectKey: KeyObject
  readonly #markEnrolled: (userId: string, enrolled: boolean) => Promise<unknown>

  constructor (options: TotpAuthenticatorOptions) {
    this.#credentials = options.credentials
    this.#attempts = options.attempts
    this.#box = options.box
    this.#issuer = options.issuer
    this.#throttle = { ...options.throttle }
    this.#onThrottled = options.onThrottled ?? (() => {})
    this.#now = options.now
    this.#subjectKey = hmacKey(options.subjectKey)
    this.#markEnrolled = options.markEnrolled ?? (async () => {})
  }

  /** The attempt subject of a user's app as the second factor (and in account changes). */
  userSubject = (userId: string): string => `u:${this.#userTag(userId)}`
  /**
   * The attempt subject of a user's app as the only factor (TOTP_PRIMARY_LOGIN): anyone who knows the address can
   * guess there, so its waits and suspension are apart from the second factor's, which only a holder of the first
   * factor reaches.
   */
  firstFactorSubject = (userId: string): string => `p:${this.#userTag(userId)}`
  /** The attempt subject of a user's recovery codes. */
  recoverySubject = (userId: string): string => `r:${this.#userTag(userId)}`

  /** A user's attempt keys name an HMAC of the id, not the id: they outlive an account's erasure by their TTL. */
  #userTag = (userId: string): string =>
    createHmac('sha256', this.#subjectKey).update(`user:${userId}`).digest('hex').slice(0, 32)

  /** The attempt subject of an identifier nobody (able to log in) holds: the same throttling, no personal data. */
  identifierSubject = (kind: 'email' | 'phone', value: string): string =>
    `i:${createHmac('sha256', this.#subjectKey).update(`${kind}:${value}`).digest('hex').slice(0, 32)}`

  /** A new pending secret, replacing a pending one; conflict when one is active. The URI is shown once. */
  async startEnrolment (userId: string, label: string): Promise<{ otpauthUri: string, expiresAt: Date }> {
    if ((await this.#credentials.find(userId))?.status === 'active') throw alreadyActive()
    const secret = new Secret({ size: 20 })
    const pending = { userId, enrolmentId: randomBytes(12).toString('base64url'), createdAt: this.#now() }
    const saved = await this.#credentials.savePending({
      ...pending, secret: this.#box.seal(secret.bytes, sealContext(pending))
    })
    if (!saved) throw alreadyActive()
    return {
      otpauthUri: totpOf(secret.bytes, this.#issuer, label).toString(),
      expiresAt: new Date(pending.createdAt.getTime() + ENROLMENT_TTL_SECONDS * 1000)
    }
  }

  /**
   * A first code activates the pending secret; answers the recovery codes, in clear this once. `authorize` runs
   * once an enrolment is known to be waiting and before its code is checked (or counted): a refusal there binds
   * nothing.
   */
  async confirmEnrolment (
    userId: string, code: string, authorize: () => Promise<void> = async () => {}
  ): Promise<string[]> {
    const credential = await this.#credentials.find(userId)
    if (credential?.status === 'active') throw alreadyActive()
    if (credential === null || this.#enrolmentExpired(credential)) {
      throw new AppError('challenge_expired', { detail: 'No authenticator enrolment is waiting; start one with POST /v1/me/totp.' })
    }
    await authorize()
    await this.#attempt(this.userSubject(userId), async () => await this.#matchTotp(credential, code) || null)
    const codes = generateRecoveryCodes()
    await this.#markEnrolled(userId, true)
    if (!await this.#credentials.activate(userId, credential.enrolmentId, codes.map(hashRecoveryCode), this.#now())) {
      throw new AppError('challenge_expired', { detail: 'The enrolment was replaced meanwhile; start again.' })
    }
    return codes
  }

  async status (userId: string): Promise<TotpStatus> {
    const credential = await this.#credentials.find(userId)
    if (credential?.status === 'active') {
      return { status: 'active', confirmedAt: credential.confirmedAt, recoveryCodesLeft: await this.#credentials.remainingRecoveryCodes(userId) }
    }
    const pending = credential !== null && !this.#enrolmentExpired(credential)
    return { status: pending ? 'pending' : 'none', confirmedAt: null, recoveryCodesLeft: 0 }
  }

  async isActive (userId: string): Promise<boolean> {
    return (await this.#credentials.find(userId))?.status === 'active'
  }

  /** A TOTP or recovery code of the user's active authenticator: which one it was, or invalid_code / rate_limited. */
  async verifySecondFactor (userId: string, code: string): Promise<SecondFactorMethod> {
    const credential = await this.#credentials.find(userId)
    if (credential?.status !== 'active') {
      await this.#attempt(this.userSubject(userId), async () => null)
      throw invalidCode()
    }
    return this.#matchEither(credential, code)
  }

  /** Whether the app's codes are refused as the second factor now (too many wrong ones): only recovery codes work. */
  async secondFactorSuspended (userId: string): Promise<boolean> {
    return await this.#attempts.suspendedMs(this.userSubject(userId), this.#throttle) > 0
  }

  /** Ends the user's throttling and suspension of authenticator codes (an operator's act). */
  async clearFailures (userId: string): Promise<void> {
    await Promise.all([
      this.#attempts.clearFailures(this.userSubject(userId)),
      this.#attempts.clearFailures(this.firstFactorSubject(userId)),
      this.#attempts.clearFailures(this.recoverySubject(userId))
    ])
  }

  /**
   * TOTP as the only factor. `userId` is null when no user able to log in holds the identifier: the answer and
   * the counting are the same as for a wrong code.
   */
  async verifyLogin (subject: string, userId: string | null, code: string): Promise<void> {
    await this.#attempt(subject, async () => {
      // the same lookup either way, so an unknown identifier is not answered faster
      const credential = await this.#credentials.find(userId ?? NO_USER)
      if (userId === null || credential?.status !== 'active') {
        checkDecoy(code, this.#now().getTime())
        return null
      }
      return await this.#matchTotp(credential, code) || null
    }, userId ?? undefined)
  }

  /** Removes the authenticator (or a pending enrolment) after a current TOTP code or a recovery code. */
  async remove (userId: string, code: string): Promise<void> {
    const credential = await this.#credentials.find(userId)
    if (credential === null) throw noAuthenticator()
    await this.#matchEither(credential, code)
    await this.#removeCredential(credential)
  }

  /**
   * Removes an app confirmed (or a pending enrolment started) within the last `withinMs`, without a code of it:
   * for an owner who proved the account another way and did not add it. An older app needs one of its codes.
   */
  async removeRecentlyAdded (userId: string, withinMs: number): Promise<void> {
    const credential = await this.#credentials.find(userId)
    if (credential === null) throw noAuthenticator()
    const addedAt = credential.confirmedAt ?? credential.createdAt
    if (this.#now().getTime() - addedAt.getTime() > withinMs) {
      throw new AppError('reauthentication_required', {
        detail: `This authenticator app was added more than ${Math.round(withinMs / 86_400_000)} days ago: remove it with one of its codes or a recovery code.`
      })
    }
    await this.#removeCredential(credential)
  }

  /** Removes the authenticator and its recovery codes without a code: an administrator helping a user who lost it. */
  async removeByAdministrator (userId: string): Promise<void> {
    const credential = await this.#credentials.find(userId)
    if (credential === null) throw noAuthenticator()
    await this.#removeCredential(credential)
  }

  /** An account's erasure: its credential and recovery codes, and its attempt state, whatever they are. */
  async forget (userId: string): Promise<void> {
    const credential = await this.#credentials.find(userId)
    if (credential !== null) await this.#credentials.remove(userId, credential.enrolmentId)
    await this.clearFailures(userId)
  }

  /** Lifts the throttle and suspension of authenticator sign-in (TOTP_PRIMARY_LOGIN) with this identifier. */
  async clearIdentifierFailures (kind: 'email' | 'phone', value: string): Promise<void> {
    await this.#attempts.clearFailures(this.identifierSubject(kind, value))
  }

  async #removeCredential ({ userId, enrolmentId }: TotpCredential): Promise<void> {
    if (!await this.#credentials.remove(userId, enrolmentId)) throw noAuthenticator()
    await this.#markEnrolled(userId, false)
  }

  /** A new set of recovery codes after a current TOTP code or a recovery code; the old set stops working. */
  async regenerateRecoveryCodes (userId: string, code: string): Promise<string[]> {
    const credential = await this.#credentials.find(userId)
    if (credential?.status !== 'active') throw noAuthenticator()
    await this.#matchEither(credential, code)
    const codes = generateRecoveryCodes()
    if (!await this.#credentials.replaceRecoveryCodes(userId, credential.enrolmentId, codes.map(hashRecoveryCode))) {
      throw noAuthenticator()
    }
    return codes
  }

  /** Runs one counted code check: null from `check` is a failure (invalid_code), anything else a success. */
  async #attempt<T> (subject: string, check: () => Promise<T | null>, owner?: string): Promise<T> {
    const start = await this.#attempts.beginAttempt(subject, this.#throttle)
    if (start.outcome === 'suspended') throw suspended(start.retryAfterMs)
    if (start.outcome === 'throttled') {
      throw new AppError('rate_limited', { retryAfter: Math.ceil(start.retryAfterMs / 1000), detail: 'Too many wrong codes; try again later.' })
    }
    let result: T | null
    try {
      result = await check()
    } catch (error) {
      // our failure (a store, a missing key), not the user's: the attempt does not count
      await this.#attempts.forgiveAttempt(subject).catch(() => {})
      throw error
    }
    if (result === null) {
      if (await this.#attempts.failAttempt(subject, this.#throttle) && owner !== undefined) this.#onThrottled(owner)
      throw invalidCode()
    }
    await this.#attempts.succeedAttempt(subject)
    return result
  }

  /** A TOTP code counts into the user's subject, a recovery code into its own; a right recovery code ends both runs. */
  async #matchEither (credential: TotpCredential, code: string): Promise<SecondFactorMethod> {
    const { userId } = credential
    if (credential.status === 'active' && isRecoveryCode(code)) {
      await this.#attempt(this.recoverySubject(userId), async () =>
        await this.#credentials.consumeRecoveryCode(userId, hashRecoveryCode(code)) || null)
      await Promise.all([
        this.#attempts.clearFailures(this.userSubject(userId)),
        this.#attempts.clearFailures(this.firstFactorSubject(userId))
      ])
      return 'recovery'
    }
    await this.#attempt(this.userSubject(userId), async () => await this.#matchTotp(credential, code) || null, userId)
    return 'totp'
  }

  /** Valid within a step of now (totp-codes.ts), and its step not accepted for this user before (replay). */
  async #matchTotp (credential: TotpCredential, code: string): Promise<boolean> {
    const step = validStep(this.#box.open(credential.secret, sealContext(credential)), code, this.#now().getTime())
    return step !== null && await this.#attempts.claimStep(this.#userTag(credential.userId), step, STEP_TTL_MS)
  }

  #enrolmentExpired (credential: TotpCredential): boolean {
    return credential.status === 'pending' && this.#now().getTime() - credential.createdAt.getTime() > ENROLMENT_TTL_SECONDS * 1000
  }
}
