import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransportFuture, type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON
} from '@simplewebauthn/server'
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

const descriptor = (passkey: Passkey) => ({ id: passkey.credentialId, transports: passkey.transports as AuthenticatorTransportFuture[] })

/**
 * The WebAuthn ceremonies on @simplewebauthn/server: options whose challenge is remembered for what it was
 * issued for, and the checks of a browser's answer (origin, RP ID, challenge, signature, counter). The caller
 * takes the pending challenge (single use) and says what it expects.
 */
export class WebAuthnCeremonies {
  readonly #settings: WebAuthnSettings
  readonly #challenges: PasskeyChallengeStore

  constructor (settings: WebAuthnSettings, challenges: PasskeyChallengeStore) {
    this.#settings = settings
    this.#challenges = challenges
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
    await this.#challenges.save(options.challenge, { purpose: 'registration', userId: user.id }, CEREMONY_TIMEOUT_MS)
    return options
  }

  /** Request options; an empty `allowed` lets the browser offer any discoverable credential of this RP. */
  async requestOptions (pending: PendingPasskeyChallenge, allowed: Passkey[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({
      rpID: this.#settings.rpId,
      timeout: CEREMONY_TIMEOUT_MS,
      userVerification: 'preferred',
      ...(allowed.length > 0 ? { allowCredentials: allowed.map(descriptor) } : {})
    })
    await this.#challenges.save(options.challenge, pending, CEREMONY_TIMEOUT_MS)
    return options
  }

  /** Takes the pending challenge the credential answers: null when unknown, expired or already answered. */
  async takeChallenge (credential: { response: { clientDataJSON: string } }): Promise<{ challenge: string, pending: PendingPasskeyChallenge } | null> {
    const challenge = challengeOf(credential)
    const pending = challenge === null ? null : await this.#challenges.take(challenge)
    return challenge === null || pending === null ? null : { challenge, pending }
  }

  /** The new credential when the answer checks out against `challenge`; null otherwise. */
  async verifyRegistration (credential: RegistrationResponseJSON, challenge: string): Promise<RegisteredCredential | null> {
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

  /** The new counter when the assertion checks out for `passkey` (a counter that went backwards does not); else null. */
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
      return verified ? { counter: authenticationInfo.newCounter, backedUp: authenticationInfo.credentialBackedUp } : null
    } catch {
      return null
    }
  }
}
