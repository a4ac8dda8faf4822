import type { Test } from 'tap'
import type { SoftwareAuthenticator } from './software-authenticator.ts'

const b64 = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes as ArrayBuffer).toString('base64url')
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64url')).buffer

type Binary = { challenge: ArrayBuffer, user?: { id: ArrayBuffer }, excludeCredentials?: Array<{ id: ArrayBuffer }> }

/** The binary options @simplewebauthn/browser hands the browser, back to the JSON the authenticator takes. */
const jsonOf = ({ challenge, user, excludeCredentials, ...rest }: Binary & Record<string, unknown>) => ({
  ...rest,
  challenge: b64(challenge),
  ...(user === undefined ? {} : { user: { ...user, id: b64(user.id) } }),
  ...(excludeCredentials === undefined
    ? {}
    : { excludeCredentials: excludeCredentials.map((each) => ({ ...each, id: b64(each.id) })) })
})

/** A credential of the JSON form as the browser's PublicKeyCredential object, byte fields as ArrayBuffers. */
function browserCredential (json: { id: string, type: string, response: object, authenticatorAttachment?: string }) {
  const response = Object.fromEntries(Object.entries(json.response as Record<string, unknown>).map(([name, value]) =>
    [name, name === 'transports' ? value : bytes(value as string)]))
  const transports = (json.response as { transports?: string[] }).transports
  return {
    id: json.id,
    rawId: bytes(json.id),
    type: json.type,
    authenticatorAttachment: json.authenticatorAttachment,
    response: { ...response, ...(transports ? { getTransports: () => transports } : {}) },
    getClientExtensionResults: () => ({})
  }
}

/**
 * A browser's WebAuthn API in this Node process (PublicKeyCredential, navigator.credentials) backed by a software
 * authenticator, for the client's tests; `cancelNext()` makes the next ceremony fail as a closed prompt does.
 */
export function installWebAuthn (t: Test, authenticator: SoftwareAuthenticator) {
  let cancel = false
  const ceremony = <Result>(run: () => Result) => async (): Promise<Result> => {
    if (!cancel) return run()
    cancel = false
    throw new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError')
  }
  const credentials = {
    create: ({ publicKey }: { publicKey: Binary & Record<string, unknown> }) =>
      ceremony(() => browserCredential(authenticator.create(jsonOf(publicKey) as never)))(),
    get: ({ publicKey }: { publicKey: Binary & Record<string, unknown> }) =>
      ceremony(() => browserCredential(authenticator.get(jsonOf(publicKey) as never)))()
  }
  const previous = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
  Object.defineProperty(globalThis, 'navigator', { value: { ...globalThis.navigator, credentials }, configurable: true })
  Object.defineProperty(globalThis, 'PublicKeyCredential', { value: function PublicKeyCredential () {}, configurable: true })
  t.teardown(() => {
    if (previous) Object.defineProperty(globalThis, 'navigator', previous)
    Reflect.deleteProperty(globalThis, 'PublicKeyCredential')
  })
  return { cancelNext: () => { cancel = true } }
}
