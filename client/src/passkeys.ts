import type { Client } from 'openapi-fetch'
import { answerOf, type Answer, type Bearer } from './answer.ts'
import type { paths } from './openapi.ts'
import type { Passkey, PasskeyProof, PasskeyVerifyBody, PasskeyAddBody, User } from './types.ts'
import { createPasskey, usePasskey } from './webauthn.ts'

interface PasskeyDeps {
  api: Client<paths>
  /** a call with the access token, retried once after a refresh */
  authorized: <Data>(call: (headers: Bearer) => Promise<Answer<Data>>) => Promise<Data>
  /** keeps a token answer as this client's session */
  signedIn: (login: { accessToken: string, refreshToken?: string, expiresIn: number, user: User }) => Promise<User>
}

/**
 * Passkeys (WebAuthn) through @simplewebauthn/browser: the API's options pass through to the browser and the
 * credential's toJSON() back, so nothing here reads CBOR or keys. A prompt the person closes is OtpGateError
 * `passkey_cancelled`; a passkey the API refuses is 401 `invalid_passkey`.
 */
export function passkeyMethods ({ api, authorized, signedIn }: PasskeyDeps) {
  const passkeys = {
    /**
     * Creates a passkey on this device and adds it to the account. Needs a sign-in under 5 minutes old, or `proof`
     * (403 `reauthentication_required` otherwise); 409 `passkey_limit_reached` at 10.
     */
    register: async (name?: string, proof: PasskeyProof = {}): Promise<Passkey> => {
      const options = await authorized((headers) => api.POST('/v1/me/passkeys/options', { headers, body: proof }))
      const credential = await createPasskey(options)
      const body = { credential, ...(name === undefined ? {} : { name }) } as PasskeyAddBody
      return authorized((headers) => api.POST('/v1/me/passkeys', { headers, body }))
    },
    list: async (): Promise<Passkey[]> =>
      (await authorized((headers) => api.GET('/v1/me/passkeys', { headers }))).passkeys,
    rename: (id: string, name: string): Promise<Passkey> =>
      authorized((headers) => api.PATCH('/v1/me/passkeys/{id}', { headers, params: { path: { id } }, body: { name } })),
    /** The passkey stops signing in at once (the device may still offer it). Needs recent proof, as register does. */
    remove: async (id: string, proof: PasskeyProof = {}): Promise<void> => {
      await authorized((headers) => api.DELETE('/v1/me/passkeys/{id}', { headers, params: { path: { id } }, body: proof }))
    }
  }

  /**
   * Signs in with a passkey alone (no MFA step: it is possession and user verification). `conditional`: offered in
   * the autofill of an input with `autocomplete="username webauthn"`, waiting until the person picks one there.
   */
  const signInWithPasskey = async ({ conditional = false }: { conditional?: boolean } = {}): Promise<User> => {
    const { data: options } = await answerOf(() => api.POST('/v1/auth/passkey/options', { body: {} }))
    const credential = await usePasskey(options, conditional)
    const body = { credential } as PasskeyVerifyBody
    return signedIn((await answerOf(() => api.POST('/v1/auth/passkey/verify', { body }))).data)
  }

  return { passkeys, signInWithPasskey }
}
