import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { isoCBOR } from '@simplewebauthn/server/helpers'
import type {
  AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON
} from '@simplewebauthn/server'

/**
 * A WebAuthn authenticator in software for route tests: a P-256 key pair per credential (node:crypto), the
 * attestation object ("none") and authenticator data built byte by byte as CTAP2 lays them out, assertions
 * signed over authenticatorData ‖ SHA-256(clientDataJSON). The server's library checks them as it would a
 * browser's; nothing of the library is mocked. Options let a test forge what a browser would never send.
 */
interface StoredCredential { id: Buffer, privateKey: KeyObject, userHandle: string, counter: number, rpId: string }

export interface Forgery {
  /** the page's origin as clientDataJSON reports it */
  origin?: string
  /** the RP ID the authenticator data's hash names */
  rpId?: string
  /** the challenge answered instead of the options' */
  challenge?: string
  /** the signature counter to report (the authenticator's own, incremented, otherwise) */
  counter?: number
  /** user verification flag; true unless said */
  userVerified?: boolean
  /** sign with another key than the credential's */
  wrongKey?: boolean
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest()
const b64 = (data: Buffer | Uint8Array) => Buffer.from(data).toString('base64url')

function authenticatorData (rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
  const count = Buffer.alloc(4)
  count.writeUInt32BE(counter)
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, attested ?? Buffer.alloc(0)])
}

function coseKey (publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' })
  // kty EC2, alg ES256, crv P-256, x, y (RFC 9053)
  return isoCBOR.encode(new Map<number, number | Uint8Array>([
    [1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]
  ]))
}

export class SoftwareAuthenticator {
  readonly credentials: StoredCredential[] = []
  readonly #origin: string
  /** whether this authenticator keeps a signature counter (many passkey providers always send 0) */
  readonly #counts: boolean

  constructor ({ origin, counts = true }: { origin: string, counts?: boolean }) {
    this.#origin = origin
    this.#counts = counts
  }

  /** navigator.credentials.create() with these options, as PublicKeyCredential.toJSON() gives it. */
  create (options: PublicKeyCredentialCreationOptionsJSON, forgery: Forgery = {}): RegistrationResponseJSON {
    const rpId = forgery.rpId ?? options.rp.id ?? new URL(this.#origin).hostname
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const id = randomBytes(32)
    const credential = { id, privateKey, userHandle: options.user.id, counter: 0, rpId }
    this.credentials.push(credential)
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(id.length)
    const attested = Buffer.concat([Buffer.alloc(16), idLength, id, coseKey(publicKey)])
    // UP, UV, AT
    const authData = authenticatorData(rpId, 0x01 | ((forgery.userVerified ?? true) ? 0x04 : 0) | 0x40, 0, attested)
    const clientDataJSON = this.#clientData('webauthn.create', forgery.challenge ?? options.challenge, forgery.origin)
    return {
      id: b64(id),
      rawId: b64(id),
      type: 'public-key',
      response: {
        clientDataJSON,
        attestationObject: b64(isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]) as never)),
        transports: ['internal', 'hybrid']
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {}
    }
  }

  /** navigator.credentials.get() with these options and this authenticator's credential `index` (the last one). */
  get (
    options: PublicKeyCredentialRequestOptionsJSON, forgery: Forgery & { index?: number } = {}
  ): AuthenticationResponseJSON {
    const credential = this.credentials.at(forgery.index ?? -1)
    if (credential === undefined) throw new Error('this authenticator holds no credential')
    if (this.#counts) credential.counter += 1
    const counter = forgery.counter ?? (this.#counts ? credential.counter : 0)
    const flags = 0x01 | ((forgery.userVerified ?? true) ? 0x04 : 0)
    const authData = authenticatorData(forgery.rpId ?? credential.rpId, flags, counter)
    const clientDataJSON = this.#clientData('webauthn.get', forgery.challenge ?? options.challenge, forgery.origin)
    const key = forgery.wrongKey === true ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : credential.privateKey
    const signature = sign('sha256', Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]), key)
    return {
      id: b64(credential.id),
      rawId: b64(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON, authenticatorData: b64(authData), signature: b64(signature), userHandle: credential.userHandle
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {}
    }
  }

  #clientData (type: string, challenge: string, origin?: string): string {
    return Buffer.from(JSON.stringify({ type, challenge, origin: origin ?? this.#origin, crossOrigin: false })).toString('base64url')
  }
}
