import { createHmac, createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, hash, timingSafeEqual, type Hmac, type JsonWebKey, type KeyObject } from 'node:crypto'
import { randomBytes } from '../random-bytes.ts'
import { Types } from 'mongoose'
import { hmacKey } from '../hmac-key.ts'
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
 * one once the tokens it signed have expired. Unset: an ephemeral pair (production refuses that at start, see
 * production-problems.ts). Throws one line
 * naming JWT_KEYS on anything else.
 */
export function loadSigningKeys (config: Config): SigningKeys {
  if (config.JWT_KEYS === undefined) {
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

/** A new access token's `jti` (RFC 9068): 128 random bits, so no two tokens share one. */
export const newTokenId = (): string => randomBytes(16).toString('base64url')

/** A new session id, a MongoDB ObjectId in hex: made before the session, so its first refresh token can name it. */
export function newSessionId (at: Date = new Date()): string {
  // the ObjectId's time is the session's start, on the caller's clock: its absolute lifetime counts from it
  return new Types.ObjectId(Types.ObjectId.generate(Math.floor(at.getTime() / 1000))).toHexString()
}

/** When the session started, read from its id (to the second). */
export function sessionStartOf (sessionId: string): Date {
  return new Date(Number.parseInt(sessionId.slice(0, 8), 16) * 1000)
}

/**
 * The server key refresh tokens are authenticated with: REFRESH_TOKEN_KEY, else one derived from OTP_PEPPER
 * (required in production), else one per process (refresh tokens then die with it, like the ephemeral JWT key).
 * A KeyObject (secretKey): given a Buffer, Node 24's createHmac tells it from a KeyObject by catching an error,
 * some 10 µs of every HMAC, three per refresh.
 */
export function loadRefreshTokenKey (config: Config): KeyObject {
  if (config.REFRESH_TOKEN_KEY !== undefined) return hmacKey(config.REFRESH_TOKEN_KEY)
  if (config.OTP_PEPPER !== undefined) return secretKey(createHmac('sha256', config.OTP_PEPPER).update('otp-gate refresh-token key'))
  return createSecretKey(randomBytes(32))
}

/** A key derived as an HMAC's digest, as a KeyObject (see loadRefreshTokenKey). */
export const secretKey = (hmac: Hmac): KeyObject => createSecretKey(hmac.digest())

/** What a refresh token says once its tag is checked: the session, its generation, and the hash of the whole token. */
export interface PresentedRefreshToken { sessionId: string, generation: number, tokenHash: string, token: string }

const NONCE_BYTES = 16
const TAG_BYTES = 16
const REFRESH_TOKEN = /^([0-9a-f]{24})\.(0|[1-9]\d{0,9})\.([\w-]{43})$/

const tagOf = (key: KeyObject, sessionId: string, generation: number, nonce: Buffer) =>
  createHmac('sha256', key).update(`${sessionId}.${generation}.`).update(nonce).digest().subarray(0, TAG_BYTES)

function refreshToken (key: KeyObject, sessionId: string, generation: number, nonce: Buffer): string {
  return `${sessionId}.${generation}.${Buffer.concat([nonce, tagOf(key, sessionId, generation, nonce)]).toString('base64url')}`
}

/**
 * A refresh token, `<sessionId>.<generation>.<nonce ‖ tag>`: the session id is a selector (the store finds the
 * session by `_id`), the generation counts the session's rotations, and the tag, an HMAC of the three under the
 * server key, proves we issued it. So a token of an earlier generation, however old, is recognised as ours and
 * its reuse ends the session, with no list of previous hashes. The first token's nonce is 128 random bits.
 */
export function newRefreshToken (key: KeyObject, sessionId: string): string {
  return refreshToken(key, sessionId, 0, randomBytes(NONCE_BYTES))
}

/**
 * The successor of a refresh token: the next generation, its nonce an HMAC of the presented token under the
 * server key. Deterministic, so every parallel refresh of one token computes the same successor, and the ones
 * that come within the reuse grace are handed the pair the first one stored.
 */
export function successorRefreshToken (key: KeyObject, presented: PresentedRefreshToken): string {
  const nonce = createHmac('sha256', key).update('successor.').update(presented.token).digest().subarray(0, NONCE_BYTES)
  return refreshToken(key, presented.sessionId, presented.generation + 1, nonce)
}

/**
 * What the session store keeps instead of the token: the SHA-256 of the whole token. A plain SHA-256 is enough:
 * with 128 random (or keyed) bits and a 128-bit tag there is nothing to brute-force.
 */
export function hashRefreshToken (token: string): string {
  // the one-shot: no Hash object for a single input
  return hash('sha256', token, 'hex')
}

/** The session a refresh token names, unchecked: for what is only told to its holder (the cookie's lifetime). */
export const sessionIdOfRefreshToken = (token: string): string => token.slice(0, 24)

/** The session, generation and hash of a presented refresh token; null when it is malformed or its tag is not ours. */
export function parseRefreshToken (key: KeyObject, token: string): PresentedRefreshToken | null {
  const match = REFRESH_TOKEN.exec(token)
  if (match === null) return null
  const [, sessionId = '', generationText = '', body = ''] = match
  const generation = Number(generationText)
  const bytes = Buffer.from(body, 'base64url')
  if (bytes.length !== NONCE_BYTES + TAG_BYTES || !Number.isSafeInteger(generation)) return null
  const tag = tagOf(key, sessionId, generation, bytes.subarray(0, NONCE_BYTES))
  if (!timingSafeEqual(tag, bytes.subarray(NONCE_BYTES))) return null
  return { sessionId, generation, tokenHash: hashRefreshToken(token), token }
}
