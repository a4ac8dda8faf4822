import { createHmac, type KeyObject } from 'node:crypto'
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { AppError } from '../errors.ts'
import { hmacKey } from '../hmac-key.ts'
import { NO_AUDIT, type AuditRecorder } from '../audit/audit-event.ts'
import type { ThrottleLimits } from '../throttle/throttling.ts'
import type { AttemptStart, TotpAttemptStore } from '../totp/totp-attempt-store.ts'
import type { Passkey, PasskeyRepository } from './passkey-repository.ts'
import type { CeremonyExpectation, WebAuthnCeremonies } from './webauthn-ceremonies.ts'

export interface PasskeyAuthenticatorOptions {
  ceremonies: WebAuthnCeremonies
  passkeys: PasskeyRepository
  /** the failure throttle of wrong codes (src/throttle), on its own subjects */
  attempts: TotpAttemptStore
  throttle: ThrottleLimits
  /** HMAC key of the throttle's subject names: no credential id or IP is kept in the clear */
  subjectKey: string
  now: () => Date
  audit?: AuditRecorder
}

/** What the answer must have been asked for: a sign-in, or the second factor of one user's pending login. */
export type AssertionExpectation = CeremonyExpectation & { purpose: 'sign_in' | 'second_factor' }

export const invalidPasskey = () => new AppError('invalid_passkey')

/**
 * Checks a passkey's answer to a sign-in challenge: the challenge is taken (single use) and must be one issued
 * for what the caller expects; the credential must be registered (to that user, for a second factor); the
 * library checks origin, RP ID, signature and counter; the new counter is stored only over the one checked.
 * Every refusal is 401 invalid_passkey and counts as a wrong code does (src/throttle), twice: per credential id
 * (guessing at one passkey) and per client IP (spraying unknown ones); a throttled subject is refused unchecked.
 */
export class PasskeyAuthenticator {
  readonly #options: PasskeyAuthenticatorOptions
  readonly #audit: AuditRecorder
  readonly #subjectKey: KeyObject

  constructor (options: PasskeyAuthenticatorOptions) {
    this.#options = options
    this.#audit = options.audit ?? NO_AUDIT
    this.#subjectKey = hmacKey(options.subjectKey)
  }

  async verify (
    credential: AuthenticationResponseJSON, expected: AssertionExpectation, clientIp: string | null
  ): Promise<Passkey> {
    const { attempts, throttle } = this.#options
    const subjects = [this.#subject('credential', credential.id), this.#subject('ip', clientIp ?? 'none')]
    const starts = await Promise.all(subjects.map((subject) => attempts.beginAttempt(subject, throttle)))
    const blocked = starts.find((start) => start.outcome !== 'allowed')
    if (blocked !== undefined) {
      await Promise.all(subjects.filter((_, index) => starts[index]?.outcome === 'allowed').map((subject) => attempts.forgiveAttempt(subject)))
      this.#audit.record('sign_in_throttled', { userId: expected.userId, amr: ['webauthn'], reason: 'rate_limited' })
      throw new AppError('rate_limited', { retryAfter: Math.ceil(retryAfterMs(blocked) / 1000), detail: 'Too many refused passkeys; try again later.' })
    }
    let outcome: { passkey: Passkey | null, userId: string | null }
    try {
      outcome = await this.#check(credential, expected)
    } catch (error) {
      // our failure (a store), not the caller's: the attempt does not count
      await Promise.all(subjects.map((subject) => attempts.forgiveAttempt(subject))).catch(() => {})
      throw error
    }
    if (outcome.passkey === null) {
      await Promise.all(subjects.map((subject) => attempts.failAttempt(subject, throttle)))
      this.#audit.record('sign_in_failed', { userId: outcome.userId, amr: ['webauthn'], reason: 'invalid_passkey' })
      throw invalidPasskey()
    }
    await Promise.all(subjects.map((subject) => attempts.succeedAttempt(subject)))
    return outcome.passkey
  }

  async #check (
    credential: AuthenticationResponseJSON, expected: AssertionExpectation
  ): Promise<{ passkey: Passkey | null, userId: string | null }> {
    const { ceremonies, passkeys, now } = this.#options
    const [challenge, passkey] = await Promise.all([
      ceremonies.takeChallenge(credential, expected), passkeys.findByCredentialId(credential.id)
    ])
    const refused = { passkey: null, userId: passkey?.userId ?? expected.userId }
    if (challenge === null || passkey === null) return refused
    if (expected.userId !== null && passkey.userId !== expected.userId) return refused
    // a discoverable credential says whose it is: it must be the user the passkey was registered to
    const handle = credential.response.userHandle
    if (handle !== undefined && Buffer.from(handle, 'base64url').toString('utf8') !== passkey.userId) return refused
    // alone, a passkey is possession and user verification; as a second factor, possession is enough
    const checked = await ceremonies.verifyAssertion(credential, challenge, passkey, expected.purpose === 'sign_in')
    if (checked === null) return refused
    const at = now()
    if (!await passkeys.recordUse(passkey.credentialId, passkey.counter, checked.counter, at)) return refused
    return { passkey: { ...passkey, counter: checked.counter, lastUsedAt: at }, userId: passkey.userId }
  }

  #subject (kind: 'credential' | 'ip', value: string): string {
    return `passkey-${kind}:` + createHmac('sha256', this.#subjectKey).update(value).digest('base64url')
  }
}

const retryAfterMs = (start: AttemptStart): number => start.outcome === 'allowed' ? 0 : start.retryAfterMs
