import type { Config } from '../config.ts'
import { createEd25519Signer, type Ed25519Sign } from './ed25519-signer.ts'
import type { SigningKeys } from './tokens.ts'

/** typ of access tokens (RFC 9068): no other JWT signed with these keys passes for one */
export const ACCESS_TOKEN_TYP = 'at+jwt'

/**
 * How access tokens are signed: EdDSA with the current key, its kid, iss, aud and a lifetime of
 * ACCESS_TOKEN_TTL_SECONDS. The domain signs with createAccessTokenSigner; plugins/auth.ts hands the same options
 * to @fastify/jwt, which verifies (and signs with them, as fast-jwt does, for app.jwt.sign).
 */
export const accessTokenSignOptions = (config: Config, keys: SigningKeys) => ({
  algorithm: 'EdDSA' as const,
  kid: keys.current.kid,
  header: { alg: 'EdDSA', typ: ACCESS_TOKEN_TYP },
  iss: config.JWT_ISSUER,
  aud: config.JWT_AUDIENCE,
  expiresIn: `${config.ACCESS_TOKEN_TTL_SECONDS}s`
})

const base64url = (text: string) => Buffer.from(text).toString('base64url')

/**
 * Signs an access token's claims with the current key, adding aud, iss, iat and exp: the compact JWS (RFC 7515)
 * fast-jwt makes with accessTokenSignOptions, byte for byte (test/sessions/access-tokens.test.ts), assembled here
 * so the signature can come from libsodium (ed25519-signer.ts). `now`: epoch ms, Date.now as fast-jwt reads it.
 */
export function createAccessTokenSigner (
  config: Config,
  keys: SigningKeys,
  sign: Ed25519Sign = createEd25519Signer(keys.current.privateKeyPem),
  now: () => number = Date.now
): (payload: object) => Promise<string> {
  // the header never changes: encoded once
  const header = base64url(JSON.stringify({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYP, kid: keys.current.kid }))
  const lifetimeMs = config.ACCESS_TOKEN_TTL_SECONDS * 1000
  const { JWT_AUDIENCE: aud, JWT_ISSUER: iss } = config
  return async (payload) => {
    const at = now()
    const claims = { ...payload, aud, iss, iat: Math.floor(at / 1000), exp: Math.floor((at + lifetimeMs) / 1000) }
    const input = `${header}.${base64url(JSON.stringify(claims))}`
    return `${input}.${sign(Buffer.from(input)).toString('base64url')}`
  }
}
