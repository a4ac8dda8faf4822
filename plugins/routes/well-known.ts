import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { jsonResponse, problemResponses } from '../schemas/responses.ts'

const JwkSchema = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.Literal('EdDSA'),
  use: Type.Literal('sig')
})

const DiscoverySchema = Type.Object({
  issuer: Type.String({ description: 'JWT_ISSUER: the `iss` of every access token' }),
  jwks_uri: Type.String({ description: 'the public keys that verify access tokens' }),
  id_token_signing_alg_values_supported: Type.Array(Type.Literal('EdDSA')),
  subject_types_supported: Type.Array(Type.Literal('public')),
  response_types_supported: Type.Array(Type.String(), { description: 'OpenID Discovery requires the field; tokens come from POST /v1/auth/otp/verify, not an authorization endpoint' })
}, {
  examples: [{
    issuer: 'https://auth.example.com',
    jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
    id_token_signing_alg_values_supported: ['EdDSA'],
    subject_types_supported: ['public'],
    response_types_supported: ['token']
  }]
})

const LOOPBACK = new Set(['localhost', '127.0.0.1'])

/**
 * Whether JWT_ISSUER can name a discovery document: an https origin, or an http one on localhost or 127.0.0.1 for
 * development. Gateways fetch `{iss}/.well-known/openid-configuration` and check that its `issuer` is the `iss`,
 * so an issuer with a path (served from some other URL) does not qualify.
 */
export function discoverableIssuer (issuer: string): boolean {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    return false
  }
  return url.origin === issuer && (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))
}

/** Public signing keys and, for an issuer URL, the discovery document: resource servers verify tokens themselves. */
const wellKnownRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { signingKeys } = app
  const issuer = config.JWT_ISSUER
  const discoverable = discoverableIssuer(issuer)
  if (config.NODE_ENV === 'production' && !/^https?:\/\//.test(issuer)) {
    app.log.warn(`JWT_ISSUER is not a URL (${issuer}): gateways and resource servers find the keys from the issuer, so name it as https://auth.example.com; no discovery document is served`)
  }

  app.get('/.well-known/jwks.json', {
    schema: {
      operationId: 'getJwks',
      summary: 'Public keys that verify access tokens',
      tags: ['keys'],
      security: [],
      response: {
        200: jsonResponse('The JWK set: the current key and those still accepted', Type.Object({ keys: Type.Array(JwkSchema) }, {
          examples: [{ keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1', alg: 'EdDSA', use: 'sig' }] }]
        })),
        ...problemResponses()
      }
    }
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return signingKeys.jwks as never
  })

  app.get('/.well-known/openid-configuration', {
    config: { disabled: !discoverable },
    schema: {
      operationId: 'getOpenIdConfiguration',
      summary: 'Where the issuer\'s keys are, for gateways and resource servers',
      description: 'Served only when JWT_ISSUER is an https:// origin (or http:// on localhost or 127.0.0.1), at `{JWT_ISSUER}/.well-known/openid-configuration`; 404 otherwise. The `issuer` is the `iss` of every access token.',
      tags: ['keys'],
      security: [],
      response: { 200: jsonResponse('The discovery document (OpenID Connect Discovery 1.0, the fields JWT authorizers read)', DiscoverySchema), ...problemResponses() }
    }
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['EdDSA' as const],
      subject_types_supported: ['public' as const],
      response_types_supported: ['token']
    }
  })
}

export default wellKnownRoutes
