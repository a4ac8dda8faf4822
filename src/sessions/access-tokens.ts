import { createSigner } from 'fast-jwt'
import type { Config } from '../config.ts'
import type { SigningKeys } from './tokens.ts'

/** typ of access tokens (RFC 9068): no other JWT signed with these keys passes for one */
export const ACCESS_TOKEN_TYP = 'at+jwt'

/**
 * How access tokens are signed: EdDSA with the current key, its kid, iss, aud and a lifetime of
 * ACCESS_TOKEN_TTL_SECONDS. The domain signs with these (createAccessTokenSigner); plugins/auth.ts hands the same
 * to @fastify/jwt, which verifies.
 */
export const accessTokenSignOptions = (config: Config, keys: SigningKeys) => ({
  algorithm: 'EdDSA' as const,
  kid: keys.current.kid,
  header: { alg: 'EdDSA', typ: ACCESS_TOKEN_TYP },
  iss: config.JWT_ISSUER,
  aud: config.JWT_AUDIENCE,
  expiresIn: `${config.ACCESS_TOKEN_TTL_SECONDS}s`
})

/** Signs an access token's claims with the current key; fast-jwt adds iat, exp, iss and aud. */
export function createAccessTokenSigner (config: Config, keys: SigningKeys): (payload: object) => Promise<string> {
  const sign = createSigner({ key: keys.current.privateKeyPem, ...accessTokenSignOptions(config, keys) })
  return async (payload) => sign({ ...payload })
}
