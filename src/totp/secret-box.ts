import { createCipheriv, createDecipheriv } from 'node:crypto'
import { randomBytes } from '../random-bytes.ts'

/** An AES-256-GCM ciphertext with what it takes to open it; `kid` names the key, so keys can rotate. */
export interface SealedSecret {
  kid: string
  /** base64url, 12 bytes */
  iv: string
  /** base64url */
  ciphertext: string
  /** base64url, 16 bytes */
  tag: string
}

export interface EncryptionKey { kid: string, key: Buffer }

const KID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/
const ALGORITHM = 'aes-256-gcm'

/** `kid:base64key` entries (TOTP_ENCRYPTION_KEYS), each key 32 bytes in base64 or base64url. */
export function parseEncryptionKeys (entries: readonly string[]): EncryptionKey[] {
  const keys = entries.map((entry) => {
    const separator = entry.indexOf(':')
    const kid = entry.slice(0, separator)
    const key = Buffer.from(entry.slice(separator + 1), 'base64')
    if (separator < 1 || !KID_PATTERN.test(kid)) throw new Error('TOTP_ENCRYPTION_KEYS: each entry is kid:base64key, the kid of [A-Za-z0-9._-]')
    if (key.length !== 32) throw new Error(`TOTP_ENCRYPTION_KEYS: key ${kid} must be 32 bytes (base64 of 32 random bytes)`)
    return { kid, key }
  })
  if (new Set(keys.map(({ kid }) => kid)).size !== keys.length) throw new Error('TOTP_ENCRYPTION_KEYS: key ids must be unique')
  return keys
}

/**
 * Encrypts small secrets at rest: the first key seals, every key opens what it sealed. `context` is
 * authenticated, not stored: a ciphertext copied onto another record (another user id) does not open.
 */
export class SecretBox {
  readonly #current: EncryptionKey
  readonly #keys: Map<string, Buffer>

  constructor (keys: readonly EncryptionKey[]) {
    const [current] = keys
    if (current === undefined) throw new Error('SecretBox needs at least one key')
    this.#current = current
    this.#keys = new Map(keys.map(({ kid, key }) => [kid, key]))
  }

  /** A box with one random key: what it seals is lost when the process ends. */
  static ephemeral (): SecretBox {
    return new SecretBox([{ kid: `ephemeral-${randomBytes(4).toString('hex')}`, key: randomBytes(32) }])
  }

  seal (plaintext: Uint8Array, context: string): SealedSecret {
    const iv = randomBytes(12)
    const cipher = createCipheriv(ALGORITHM, this.#current.key, iv).setAAD(Buffer.from(context, 'utf8'))
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return { kid: this.#current.kid, iv: iv.toString('base64url'), ciphertext: ciphertext.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') }
  }

  /** Throws when the key is unknown or the ciphertext, tag or context do not match. */
  open (sealed: SealedSecret, context: string): Buffer {
    const key = this.#keys.get(sealed.kid)
    if (key === undefined) throw new Error(`no TOTP encryption key with kid ${sealed.kid}: it must stay in TOTP_ENCRYPTION_KEYS while secrets sealed with it exist`)
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(sealed.iv, 'base64url'))
      .setAAD(Buffer.from(context, 'utf8'))
      .setAuthTag(Buffer.from(sealed.tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64url')), decipher.final()])
  }
}
