import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import jwt from '@fastify/jwt'
import buildGetJwks from 'get-jwks'
import { createPublicKey, type JsonWebKey } from 'node:crypto'

export interface ResourceServerOptions {
  /** otp-gate's JWT_ISSUER, an URL: its keys are at `{issuer}/.well-known/jwks.json` */
  issuer: string
  /** otp-gate's JWT_AUDIENCE: the tokens meant for this service */
  audience: string
}

/** The claims otp-gate's access tokens carry (its docs/frontend.md has the table). */
interface AccessClaims {
  sub: string
  sid: string
  amr: string[]
  auth_time: number
  jti: string
  iss: string
  aud: string
  exp: number
  iat: number
}

/**
 * A service of yours behind otp-gate: it checks each access token itself, with no call to otp-gate per request.
 * The signature against the issuer's JWKS (fetched once per key id, so a key otp-gate adds is found without a
 * restart), EdDSA only, `typ: at+jwt`, the issuer, the audience and the expiry.
 */
export async function buildResourceServer ({ issuer, audience }: ResourceServerOptions): Promise<FastifyInstance> {
  const app = Fastify()
  // only this issuer's keys are ever fetched, whatever a token's iss says
  const jwks = buildGetJwks({ issuersWhitelist: [issuer], ttl: 10 * 60_000 })

  await app.register(jwt, {
    decode: { complete: true },
    secret: async (_request: FastifyRequest, token: unknown) => {
      const { header } = token as { header: { kid?: string } }
      const jwk = await jwks.getJwk({ domain: issuer, alg: 'EdDSA', kid: header.kid ?? '' })
      // get-jwks turns RSA and EC keys into PEM itself; an Ed25519 (OKP) key goes through node:crypto
      return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
    },
    verify: {
      algorithms: ['EdDSA'],
      allowedIss: issuer,
      allowedAud: audience,
      checkTyp: 'at+jwt',
      requiredClaims: ['iss', 'aud', 'sub', 'exp', 'iat']
    }
  })

  app.addHook('onRequest', async (request, reply) => {
    try {
      await request.jwtVerify()
    } catch {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'invalid_token' })
    }
  })

  app.get('/orders', async (request) => {
    const { sub, sid } = request.user as AccessClaims
    return { user: sub, session: sid, orders: [] }
  })
  return app
}
