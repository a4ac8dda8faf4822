import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransportFuture, type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON
} from '@simplewebauthn/server'
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto'
import { hmacKey } from '../hmac-key.ts'
import type { WebAuthnSettings } from '../config/webauthn-origins.ts'
import type { PasskeyChallengeStore, PendingPasskeyChallenge } from './passkey-challenge-store.ts'
import type { Passkey } from './passkey-repository.ts'

/** how long a browser may take, and how long the challenge waits for its answer */
export const CEREMONY_TIMEOUT_MS = 300_000

/** What a verified registration adds, before it gets a name and an id. */
export type RegisteredCredential = Pick<Passkey, 'credentialId' | 'publicKey' | 'counter' | 'transports' | 'backedUp'>

/** The challenge a credential answers, as its clientDataJSON carries it; null when that is not readable. */
export function challengeOf (credential: { response: { clientDataJSON: string } }): string | null {
  try {
    const clientData = JSON.parse(Buffer.from(credential.response.clientDataJSON, 'base64url').toString('utf8')) as unknown
    const challenge = (clientData as { challenge?: unknown } | null)?.challenge
    return typeof challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(challenge) ? challenge : null
  } catch {
    return null
  }
}

/** What a challenge is issued for, and what its answer must be for: the purpose, the user, the pending login. */
export interface CeremonyExpectation {
  purpose: PendingPasskeyChallenge['purpose']
  /** null for a sign-in, where the credential names its user */
  userId: string | null
  /** second_factor: the mfaToken the options were asked with */
  mfaToken?: string
}

const descriptor = (passkey: Passkey) => ({
  id: passkey.credentialId, transports: passkey.transports as AuthenticatorTransportFuture[]
})

/**
 * The WebAuthn ceremonies on @simplewebauthn/server: options whose challenge is remembered for what it was
 * issued for, and the checks of a browser's answer (origin, RP ID, challenge, signature, counter). The caller
 * takes the pending challenge (single use) and says what it expects.
 */
export class WebAuthnCeremonies {
  readonly #settings: WebAuthnSettings
  readonly #challenges: PasskeyChallengeStore
  readonly #bindingKey: KeyObject

  constructor (settings: WebAuthnSettings, challenges: PasskeyChallengeStore, bindingKey: string) {
    this.#settings = settings
    this.#challenges = challenges
    this.#bindingKey = hmacKey(bindingKey)
  }

  #pending (expected: CeremonyExpectation): PendingPasskeyChallenge {
    const binding = createHmac('sha256', this.#bindingKey)
      .update(JSON.stringify([expected.purpose, expected.userId, expected.mfaToken ?? null])).digest('base64url')
    return { purpose: expected.purpose, binding }
  }

  /** Creation options for `userId`: a discoverable credential, user verification preferred, no attestation. */
  async creationOptions (
    user: { id: string, name: string }, existing: Passkey[]
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const options = await generateRegistrationOptions({
      rpName: this.#settings.rpName,
      rpID: this.#settings.rpId,
      // the user handle a discoverable credential answers with at sign-in: our user id, nothing personal
      userID: new TextEncoder().encode(user.id),
      userName: user.name,
      timeout: CEREMONY_TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: existing.map(descriptor),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' }
    })
    await this.#challenges.save(options.challenge, this.#pending({ purpose: 'registration', userId: user.id }), CEREMONY_TIMEOUT_MS)
    return options
  }

  /** Request options; an empty `allowed` lets the browser offer any discoverable credential of this RP. */
  async requestOptions (
    expected: CeremonyExpectation, allowed: Passkey[]
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({
      rpID: this.#settings.rpId,
      timeout: CEREMONY_TIMEOUT_MS,
      userVerification: 'preferred',
      ...(allowed.length > 0 ? { allowCredentials: allowed.map(descriptor) } : {})
    })
    await this.#challenges.save(options.challenge, this.#pending(expected), CEREMONY_TIMEOUT_MS)
    return options
  }

  /**
   * Takes (single use) the pending challenge the credential answers; the challenge when it was issued for what
   * is `expected`, null when it is unknown, expired, already answered or issued for something else.
   */
  async takeChallenge (
    credential: { response: { clientDataJSON: string } }, expected: CeremonyExpectation
  ): Promise<string | null> {
    const challenge = challengeOf(credential)
    const pending = challenge === null ? null : await this.#challenges.take(challenge)
    if (pending === null) return null
    const want = this.#pending(expected)
    const same = pending.purpose === want.purpose && pending.binding.length === want.binding.length &&
      timingSafeEqual(Buffer.from(pending.binding), Buffer.from(want.binding))
    return same ? challenge : null
  }

  /** The new credential when the answer checks out against `challenge`; null otherwise. */
  async verifyRegistration (
    credential: RegistrationResponseJSON, challenge: string
  ): Promise<RegisteredCredential | null> {
    try {
      const { verified, registrationInfo } = await verifyRegistrationResponse({
        response: credential,
        expectedChallenge: challenge,
        expectedOrigin: this.#settings.origins,
        expectedRPID: this.#settings.rpId,
        requireUserVerification: false
      })
      if (!verified) return null
      return {
        credentialId: registrationInfo.credential.id,
        publicKey: Buffer.from(registrationInfo.credential.publicKey).toString('base64url'),
        counter: registrationInfo.credential.counter,
        transports: registrationInfo.credential.transports ?? credential.response.transports ?? [],
        backedUp: registrationInfo.credentialBackedUp
      }
    } catch {
      // the library throws for every mismatch: origin, RP ID, challenge, format, key
      return null
    }
  }

  /** The new counter when the assertion checks out for `passkey` (one whose counter went backwards does not). */
  async verifyAssertion (
    credential: AuthenticationResponseJSON, challenge: string, passkey: Passkey, requireUserVerification: boolean
  ): Promise<{ counter: number, backedUp: boolean } | null> {
    try {
      const { verified, authenticationInfo } = await verifyAuthenticationResponse({
        response: credential,
        expectedChallenge: challenge,
        expectedOrigin: this.#settings.origins,
        expectedRPID: this.#settings.rpId,
        credential: {
          id: passkey.credentialId,
          publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
          counter: passkey.counter,
          transports: passkey.transports as AuthenticatorTransportFuture[]
        },
        requireUserVerification
      })
      if (!verified) return null
      return { counter: authenticationInfo.newCounter, backedUp: authenticationInfo.credentialBackedUp }
    } catch {
      return null
    }
  }
}
