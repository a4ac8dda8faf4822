import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto'
import { Types } from 'mongoose'
import { ConfigError, type Config } from '../config.ts'

export interface SigningKey { kid: string, privateKeyPem: string, publicKeyPem: string }

export interface SigningKeys {
  /** signs every new access token */
  current: SigningKey
  /** kid → public PEM of every key still accepted, the current one included */
  verify: Map<string, string>
  /** what /.well-known/jwks.json serves: public OKP Ed25519 keys only */
  jwks: { keys: JsonWebKey[] }
  /** generated at start-up (JWT_KEYS unset): tokens die with the process */
  ephemeral: boolean
}

const problem = (message: string) => new ConfigError(`Invalid configuration: ${message}`)

function toPublicJwk (key: KeyObject, kid: string): JsonWebKey {
  const { kty, crv, x } = createPublicKey(key).export({ format: 'jwk' })
  return { kty, crv, x, kid, alg: 'EdDSA', use: 'sig' }
}

function toSigningKey (key: KeyObject, kid: string): SigningKey {
  return {
    kid,
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString()
  }
}

function parseKey (jwk: unknown, index: number): { kid: string, key: KeyObject } {
  const where = `JWT_KEYS[${index}]`
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw problem(`${where} is not a JWK object`)
  const { kid, kty, crv, d } = jwk as JsonWebKey
  if (typeof kid !== 'string' || kid === '') throw problem(`${where} has no kid`)
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof d !== 'string') {
    throw problem(`${where} (kid ${JSON.stringify(kid)}) is not an Ed25519 private key: want kty "OKP", crv "Ed25519" and d`)
  }
  try {
    return { kid, key: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }) }
  } catch {
    throw problem(`${where} (kid ${JSON.stringify(kid)}) is not a valid Ed25519 key`)
  }
}

/**
 * The keys access tokens are signed and verified with. JWT_KEYS is a JSON array of Ed25519 private JWKs, each
 * with a kid: the first signs, all verify, so a key is rotated by prepending its successor and dropping the old
 * one once the tokens it signed have expired. Unset outside production: an ephemeral pair. Throws one line
 * naming JWT_KEYS on anything else.
 */
export function loadSigningKeys (config: Config): SigningKeys {
  if (config.JWT_KEYS === undefined) {
    if (config.NODE_ENV === 'production') throw problem('JWT_KEYS is required in production')
    const kid = `ephemeral-${randomBytes(6).toString('hex')}`
    const { privateKey } = generateKeyPairSync('ed25519')
    const current = toSigningKey(privateKey, kid)
    return {
      current,
      verify: new Map([[kid, current.publicKeyPem]]),
      jwks: { keys: [toPublicJwk(privateKey, kid)] },
      ephemeral: true
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(config.JWT_KEYS)
  } catch {
    throw problem('JWT_KEYS is not valid JSON (want a JSON array of Ed25519 private JWKs)')
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw problem('JWT_KEYS must be a non-empty JSON array of Ed25519 private JWKs')
  const keys = parsed.map(parseKey)
  const verify = new Map<string, string>()
  for (const { kid, key } of keys) {
    if (verify.has(kid)) throw problem(`JWT_KEYS has the kid ${JSON.stringify(kid)} twice`)
    verify.set(kid, toSigningKey(key, kid).publicKeyPem)
  }
  const [first] = keys as [typeof keys[number], ...typeof keys]
  return {
    current: toSigningKey(first.key, first.kid),
    verify,
    jwks: { keys: keys.map(({ kid, key }) => toPublicJwk(key, kid)) },
    ephemeral: false
  }
}

/** A new Ed25519 private JWK for JWT_KEYS; the kid defaults to the date and a random suffix. */
export function generateSigningKey (kid: string = `${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`): JsonWebKey {
  const { privateKey } = generateKeyPairSync('ed25519')
  return { ...privateKey.export({ format: 'jwk' }), kid }
}

/** A new session id, a MongoDB ObjectId in hex: made before the session, so its first refresh token can name it. */
export function newSessionId (): string {
  return new Types.ObjectId().toHexString()
}

/**
 * A refresh token, `<sessionId>.<secret>`: the session id is a selector, so the store finds the session by `_id`
 * and compares hashes in code (no lookup by hash); the secret, 256 random bits in base64url, is the verifier.
 */
export function newRefreshToken (sessionId: string): string {
  return `${sessionId}.${randomBytes(32).toString('base64url')}`
}

/**
 * What the session store keeps instead of the token: the SHA-256 of the whole token, selector included. A plain
 * SHA-256 is enough: with 256 random bits there is nothing to brute-force, so a slow or salted hash would only
 * cost time on every refresh.
 */
export function hashRefreshToken (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

const REFRESH_TOKEN = /^([0-9a-f]{24})\.[\w-]{43}$/

/** The session a presented refresh token names and the token's hash; null when it is not of our making. */
export function parseRefreshToken (token: string): { sessionId: string, tokenHash: string } | null {
  const sessionId = REFRESH_TOKEN.exec(token)?.[1]
  return sessionId === undefined ? null : { sessionId, tokenHash: hashRefreshToken(token) }
}
