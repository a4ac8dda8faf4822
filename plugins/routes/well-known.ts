import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { jsonResponse, problemResponses } from '../schemas/responses.ts'

const JwkSchema = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.Literal('EdDSA'),
  use: Type.Literal('sig')
})

/** Public signing keys, so resource servers can verify access tokens themselves. */
const wellKnownRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { signingKeys } = app
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
}

export default wellKnownRoutes
