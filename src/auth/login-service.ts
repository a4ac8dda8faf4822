import { AppError, isAppError } from '../errors.ts'
import type { DeliveryLogger } from '../delivery/delivery.ts'
import { challengeOf, type IssuedChallenge, type OtpEngine, type VerifiedChallenge } from '../otp/otp-engine.ts'
import { NO_AUDIT, type AuditRecorder } from '../audit/audit-event.ts'
import type { MfaChallenges } from '../totp/mfa-challenges.ts'
import type { TotpAuthenticator } from '../totp/totp-authenticator.ts'
import { isRecoveryCode } from '../totp/recovery-codes.ts'
import { verifiedAtField, type IdentifierKind, type User, type UserRepository } from '../users/user-repository.ts'
import { ChallengeIssuer, channelOf, identifierKind } from './challenge-issuer.ts'
import { reinstateOnFailure } from './reinstate-on-failure.ts'
import type { DeviceTokens } from './device-tokens.ts'
import type { ClientInfo, SessionService, TokenPair } from './session-service.ts'

/** What a verify answers instead of tokens when a second factor is due. */
export interface MfaChallengeView {
  mfaRequired: true
  mfaToken: string
  expiresIn: number
  methods: Array<'totp' | 'recovery' | 'webauthn'>
}

/**
 * A session and its user; `deviceToken` when the sign-in proved an email or phone (a code or a link): the device
 * keeps it to ask for later codes from the owner's budget (device-tokens.ts).
 */
export type SignedIn = TokenPair & { user: User, deviceToken?: string }

export interface LoginServiceOptions {
  otp: OtpEngine
  issuer: ChallengeIssuer
  users: UserRepository
  sessions: SessionService
  totp: TotpAuthenticator
  mfa: MfaChallenges
  devices: DeviceTokens
  signup: 'open' | 'closed'
  mfaPolicy: 'required_when_enrolled' | 'off'
  now: () => Date
  /** security events: sign-ins that succeed, fail or are throttled, recovery codes used */
  audit?: AuditRecorder
  /** whether the user has a passkey, to offer `webauthn` as a second factor; never without passkeys on */
  hasPasskey?: (userId: string) => Promise<boolean>
}

export interface Identifier { kind: IdentifierKind, value: string }

const invalidCode = () => new AppError('invalid_code')
const RETRYABLE = new Set<string>(['invalid_code', 'login_suspended', 'rate_limited'])

/** The audit event of a refused code: a lockout or spent attempts are throttling, anything else a failure. */
function failedSignIn (
  audit: AuditRecorder, error: unknown, fields: { userId: string | null, identifier?: string | null, amr: string[] }
): void {
  if (!isAppError(error) || !['invalid_code', 'too_many_attempts', 'rate_limited', 'login_suspended'].includes(error.code)) return
  audit.record(error.code === 'invalid_code' ? 'sign_in_failed' : 'sign_in_throttled', { ...fields, reason: error.code })
}
const mfaTokenGone = () => new AppError('challenge_expired', { detail: 'The mfaToken has expired or was used; log in again.' })

/**
 * Passwordless login, from asking for a code to holding a session. Round trips per request
 * (R = Redis, M = MongoDB; "∥" runs concurrently, each line one sequential level; the per-IP limit adds one R):
 * - start:  M user by identifier ∥ R SMS budget ∥ R conversion check (SMS only); R start script; R enqueue (not
 *   for a test identifier).
 * - resend: R resend script (after an R read of its destination when TEST_IDENTIFIERS is set); R SMS budget ∥
 *   R conversion check (SMS only); R enqueue. The provider is the worker's, after the answer.
 * - verify, returning user: R verify script; M beginLogin (one findOneAndUpdate); M session insert.
 * - verify, sign-up: R verify script; M upsert of the user; M session insert.
 * - verify, with an authenticator app: R verify script; M beginLogin, M user read; R MFA token ∥ R the app's
 *   suspension ∥ M the user's passkeys, with passkeys on (which methods to offer).
 * - link verify: as verify, with the link script instead of the verify script.
 * - start with a device token: as start, plus an HMAC (no round trip).
 */
export class LoginService {
  readonly #options: LoginServiceOptions

  readonly #audit: AuditRecorder

  constructor (options: LoginServiceOptions) {
    this.#options = options
    this.#audit = options.audit ?? NO_AUDIT
  }

  /**
   * Sends a code (or, while the destination's code checks are suspended, a sign-in link); the same answer and work
   * whether or not the identifier has an account. A `deviceToken` of this user for this destination spends the
   * owner's budget lane instead of the anonymous one.
   */
  async start (
    { kind, value }: Identifier, locale: string | null, logger: DeliveryLogger, clientIp?: string, deviceToken?: string
  ): Promise<IssuedChallenge> {
    const { users, issuer, signup, devices } = this.#options
    const channel = channelOf(kind)
    const [found, admission] = await Promise.allSettled([
      users.findByIdentifier(kind, value),
      issuer.admit({ channel, destination: value }, clientIp)
    ])
    if (found.status === 'rejected' || admission.status === 'rejected') {
      if (admission.status === 'fulfilled') await admission.value?.release()
      throw found.status === 'rejected' ? found.reason : (admission as PromiseRejectedResult).reason
    }
    const user = found.value
    // closed sign-up and disabled users get a decoy: same work and answer, no message, never verifiable
    const deliverable = user ? user.status === 'active' : signup === 'open'
    const recognised = devices.recognises(deviceToken, user?.id ?? null, channel, value)
    return issuer.issue({
      purpose: 'login',
      channel,
      destination: value,
      userId: user?.id ?? null,
      locale: locale ?? user?.locale ?? null,
      deliverable,
      lane: recognised ? 'owner' : 'anonymous'
    }, logger, admission.value)
  }

  resend (challengeId: string, logger: DeliveryLogger, clientIp?: string): Promise<IssuedChallenge> {
    return this.#options.issuer.reissue(challengeId, logger, clientIp)
  }

  /** Exchanges a code for a session, signing the user up on a first login when sign-up is open. */
  async verify (
    challengeId: string, code: string, client: ClientInfo, logger: DeliveryLogger
  ): Promise<SignedIn | MfaChallengeView> {
    const verified = await this.#options.otp.verifyChallenge({ challengeId, code, purpose: 'login' }).catch((error: unknown) => {
      const challenge = challengeOf(error)
      failedSignIn(this.#audit, error, { userId: challenge?.userId ?? null, identifier: challenge?.destination ?? null, amr: ['otp'] })
      throw error
    })
    const result = await reinstateOnFailure(verified, logger, () => this.#afterVerify(verified, client))
    this.#options.issuer.recordVerified(verified.channel, verified.destination)
    return result
  }

  /**
   * Exchanges a sign-in link's token for a session, as a code would be: the way in while the destination's code
   * checks are suspended. Neither throttled nor counted (the token has 256 bits); single use.
   */
  async verifyLink (token: string, client: ClientInfo, logger: DeliveryLogger): Promise<SignedIn | MfaChallengeView> {
    const verified = await this.#options.otp.verifyLink({ token, purpose: 'login' }).catch((error: unknown) => {
      failedSignIn(this.#audit, error, { userId: null, amr: ['otp'] })
      throw error
    })
    const result = await reinstateOnFailure(verified, logger, async () => {
      // a decoy's link is never delivered: answered as a used one
      if (!verified.deliverable) throw new AppError('challenge_expired', { detail: 'The sign-in link has expired or was used; ask for a new one.' })
      return await this.#afterVerify(verified, client)
    })
    this.#options.issuer.recordVerified(verified.channel, verified.destination)
    return result
  }

  async #afterVerify (verified: VerifiedChallenge, client: ClientInfo): Promise<SignedIn | MfaChallengeView> {
    const { users, signup, now } = this.#options
    if (!verified.deliverable) throw invalidCode()
    const kind = identifierKind(verified.channel)
    const proved = { channel: verified.channel, destination: verified.destination }
    const at = now()
    let userId = verified.userId
    if (userId === null) {
      if (signup === 'closed') throw invalidCode()
      // a user created here is created verified and logged in, and has no authenticator app yet
      const { user, created } = await users.findOrCreateByIdentifier(
        kind, verified.destination, { locale: verified.locale, loginAt: at }
      )
      if (created) return this.#signedIn(user, ['otp'], client, proved)
      // someone signed this identifier up since the code was sent: a returning user after all
      userId = user.id
    }
    const step = await users.beginLogin(userId, kind, verified.destination, at, { secondFactor: this.#options.mfaPolicy !== 'off' })
    if (step.outcome === 'refused') throw invalidCode()
    if (step.outcome === 'logged_in') return this.#signedIn(step.user, ['otp'], client, proved)
    // mfaEnrolled may outlive an interrupted removal: the credential decides
    const secondFactor = await this.#secondFactor(step.user.id, kind)
    if (secondFactor) return secondFactor
    const loggedIn = await users.recordLogin(step.user.id, kind, at)
    if (loggedIn === null) throw invalidCode()
    return this.#signedIn(loggedIn, ['otp'], client, proved)
  }

  /**
   * The MFA step of a user with an active app. Its methods are those that can succeed now: while the app's codes
   * are suspended (too many wrong ones as a second factor) only a recovery code is offered.
   */
  async #secondFactor (userId: string, kind: IdentifierKind): Promise<MfaChallengeView | null> {
    const { totp, mfa } = this.#options
    if (!await totp.isActive(userId)) return null
    const [mfaToken, appSuspended, passkey] = await Promise.all([
      mfa.issue({ userId, kind, amr: ['otp'] }),
      totp.secondFactorSuspended(userId),
      this.#options.hasPasskey?.(userId) ?? false
    ])
    const methods: MfaChallengeView['methods'] = appSuspended ? ['recovery'] : ['totp', 'recovery']
    if (passkey) methods.push('webauthn')
    return { mfaRequired: true, mfaToken, expiresIn: mfa.ttlSeconds, methods }
  }

  /**
   * Completes a login with a code of the authenticator app or a recovery code; the mfaToken works once. It is
   * taken before the code is checked, so parallel completions check (and spend) one code at most; a wrong code
   * puts it back.
   */
  async completeSecondFactor (mfaToken: string, code: string, client: ClientInfo): Promise<SignedIn> {
    const { mfa, totp, users, now } = this.#options
    const challenge = await mfa.take(mfaToken)
    if (challenge === null) throw mfaTokenGone()
    let method: Awaited<ReturnType<TotpAuthenticator['verifySecondFactor']>>
    try {
      // a challenge of an earlier version that offered only recovery codes
      if (challenge.recoveryOnly === true && !isRecoveryCode(code)) throw new AppError('login_suspended')
      method = await totp.verifySecondFactor(challenge.userId, code)
    } catch (error) {
      failedSignIn(this.#audit, error, { userId: challenge.userId, amr: [...challenge.amr, 'mfa'] })
      // the user's mistake or a wait: the login goes on with another code
      if (isAppError(error) && RETRYABLE.has(error.code)) await mfa.giveBack(mfaToken, challenge)
      throw error
    }
    if (method === 'recovery') this.#audit.record('recovery_code_used', { userId: challenge.userId })
    const user = await users.recordLogin(challenge.userId, challenge.kind, now())
    if (user === null || user.status !== 'active') throw invalidCode()
    if (method === 'recovery') await this.#liftSuspensions(user)
    const destination = user[challenge.kind]
    const proved = destination === null ? undefined : { channel: channelOf(challenge.kind), destination }
    return this.#signedIn(user, [...challenge.amr, method, 'mfa'], client, proved)
  }

  /** A recovery-code sign-in ends the throttling and suspension of the user's code logins. */
  async #liftSuspensions (user: User): Promise<void> {
    const { otp } = this.#options
    await Promise.all([
      user.email === null ? null : otp.clearFailures('email', user.email),
      user.phone === null ? null : otp.clearFailures('sms', user.phone)
    ])
  }

  /** A login with an identifier and a code of the authenticator app; everyone else gets a wrong code's answer. */
  async loginWithTotp ({ kind, value }: Identifier, code: string, client: ClientInfo): Promise<SignedIn> {
    const { users, totp, now } = this.#options
    const user = await users.findByIdentifier(kind, value)
    // a subject of its own: anonymous guesses here never throttle nor suspend the app as a second factor
    const subject = user ? totp.firstFactorSubject(user.id) : totp.identifierSubject(kind, value)
    await totp.verifyLogin(subject, user?.status === 'active' ? user.id : null, code).catch((error: unknown) => {
      failedSignIn(this.#audit, error, { userId: user?.id ?? null, identifier: value, amr: ['totp'] })
      throw error
    })
    // verifyLogin accepts no code for anyone else; this narrows the type
    if (user?.status !== 'active') throw invalidCode()
    // a TOTP login proves the app, not the identifier: only a verified one records the login
    const loggedIn = user[verifiedAtField(kind)] === null ? user : await users.recordLogin(user.id, kind, now()) ?? user
    return this.#signedIn(loggedIn, ['totp'], client)
  }

  async #signedIn (
    user: User, amr: string[], client: ClientInfo, proved?: { channel: 'email' | 'sms', destination: string }
  ): Promise<SignedIn> {
    const signedIn: SignedIn = { ...await this.#options.sessions.open(user.id, amr, client, user.appMetadata), user }
    if (proved !== undefined) {
      signedIn.deviceToken = this.#options.devices.issue(user.id, proved.channel, proved.destination)
    }
    this.#audit.record('sign_in_succeeded', { userId: user.id, identifier: user.email ?? user.phone, amr })
    return signedIn
  }
}
