import { createPrivateKey, sign } from 'node:crypto'
import { createRequire } from 'node:module'

/** Signs `message` with one Ed25519 private key: the 64-byte RFC 8032 signature. */
export type Ed25519Sign = (message: Buffer) => Buffer

/** Who computes the signature: both give the same bytes (RFC 8032 signatures are deterministic). */
export type Ed25519Engine = 'libsodium' | 'openssl'

/** The part of sodium-native used here (its own API, github.com/holepunchto/sodium-native). */
interface Sodium {
  crypto_sign_BYTES: number
  crypto_sign_PUBLICKEYBYTES: number
  crypto_sign_SECRETKEYBYTES: number
  crypto_sign_seed_keypair: (publicKey: Buffer, secretKey: Buffer, seed: Buffer) => void
  crypto_sign_detached: (signature: Buffer, message: Buffer, secretKey: Buffer) => void
  sodium_malloc: (size: number) => Buffer
  sodium_memzero: (buffer: Buffer) => void
}

/** sodium-native is an optional dependency (a prebuilt addon): where it does not load, OpenSSL signs. */
function loadSodium (): Sodium | null {
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium
  } catch {
    return null
  }
}

const sodium = loadSodium()

/**
 * libsodium when sodium-native loads, OpenSSL otherwise. libsodium signs in about half OpenSSL's time here (17
 * against 33 µs a signature, docs/benchmarks.md), and every sign-in and refresh signs one access token.
 */
export const preferredEd25519Engine: Ed25519Engine = sodium === null ? 'openssl' : 'libsodium'

/**
 * A signer for the Ed25519 private key in `privateKeyPem` (PKCS #8). libsodium's secret key (the seed and the
 * public key) goes in memory of its own (sodium_malloc); the seed's Buffer is wiped once it is there.
 */
export function createEd25519Signer (
  privateKeyPem: string, engine: Ed25519Engine = preferredEd25519Engine
): Ed25519Sign {
  const key = createPrivateKey(privateKeyPem)
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('createEd25519Signer needs an Ed25519 private key')
  if (engine === 'openssl' || sodium === null) {
    if (engine === 'libsodium') throw new Error('libsodium is not available: sodium-native did not load')
    return (message) => sign(null, message, key)
  }
  const { d } = key.export({ format: 'jwk' })
  const seed = Buffer.from(d ?? '', 'base64url')
  const secretKey = sodium.sodium_malloc(sodium.crypto_sign_SECRETKEYBYTES)
  sodium.crypto_sign_seed_keypair(Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES), secretKey, seed)
  sodium.sodium_memzero(seed)
  const signatureBytes = sodium.crypto_sign_BYTES
  return (message) => {
    const signature = Buffer.allocUnsafe(signatureBytes)
    sodium.crypto_sign_detached(signature, message, secretKey)
    return signature
  }
}
