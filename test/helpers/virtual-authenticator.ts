import type { CDPSession, Page } from 'playwright-core'

/** What a platform passkey provider is: CTAP2, built in, discoverable credentials, verifying the user at once. */
const PLATFORM = {
  protocol: 'ctap2',
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true
} as const

export interface StoredCredential {
  credentialId: string
  isResidentCredential: boolean
  rpId?: string
  privateKey: string
  userHandle?: string
  signCount: number
}

/** A virtual authenticator of the DevTools protocol in `page`'s browser tab: its credentials, and copies into it. */
export async function virtualAuthenticator (page: Page) {
  const cdp: CDPSession = await page.context().newCDPSession(page)
  await cdp.send('WebAuthn.enable', { enableUI: false })
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: PLATFORM })
  return {
    credentials: async (): Promise<StoredCredential[]> =>
      (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
    /**
     * Whether the person "touches" the authenticator at once. On, a conditional request (the email field's autofill)
     * is answered at once too, as if the person had picked the passkey there.
     */
    presence: (enabled: boolean) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled }),
    /** Puts a credential (its private key included) into this authenticator, as if created here. */
    add: (credential: StoredCredential) => cdp.send('WebAuthn.addCredential', { authenticatorId, credential })
  }
}

// what the page's side uses: the tests compile without the DOM library
interface WebAuthnGlobals {
  PublicKeyCredential: { parseRequestOptionsFromJSON: (options: object) => unknown }
  navigator: { credentials: { get: (options: { publicKey: unknown }) => Promise<{ toJSON: () => unknown }> } }
}

/**
 * In `page`, asks for request options at POST /v1/auth/passkey/options, makes an assertion with `rpId` (the
 * options' own when undefined) and posts it to POST /v1/auth/passkey/verify; answers the verify status and body.
 */
export function assertWithRpId (page: Page, rpId: string | undefined) {
  return page.evaluate(async (rpId) => {
    const { PublicKeyCredential, navigator } = globalThis as unknown as WebAuthnGlobals
    const post = (url: string, body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const optionsJSON = await (await post('/v1/auth/passkey/options', {})).json() as object
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON({ ...optionsJSON, ...(rpId ? { rpId } : {}) })
    const credential = await navigator.credentials.get({ publicKey })
    const answer = await post('/v1/auth/passkey/verify', { credential: credential.toJSON() })
    return { status: answer.status, body: await answer.json() as { code?: string, accessToken?: string } }
  }, rpId)
}
