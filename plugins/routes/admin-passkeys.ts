import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { perMinute } from '../rate-limit.ts'
import { PARSE_ERRORS, jsonResponse, problemResponses } from '../schemas/responses.ts'
import { PasskeyListSchema, passkeyView } from '../schemas/passkey.ts'

const security = [{ adminApiKey: [] }]
const tags = ['admin']
const id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description })
const AUTH_ERRORS = ['validation_failed', 'uri_too_long', 'unauthorized', 'not_found', 'rate_limited'] as const

/**
 * /v1/admin/users/{id}/passkeys, with an admin API key (plugins/admin-auth.ts). Served whether or not passkeys
 * are on, so passkeys registered before they were turned off can still be seen and removed.
 */
const adminPasskeyRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { adminPasskeys } = app
  app.addHook('preParsing', app.authenticateAdmin)
  const limit = { rateLimit: perMinute(config.RATE_LIMIT_ADMIN_PER_MINUTE) }

  app.get('/users/:id/passkeys', {
    config: limit,
    schema: {
      operationId: 'adminListUserPasskeys',
      summary: 'A user\'s passkeys, oldest first',
      tags,
      security,
      params: Type.Object({ id: id('a user id') }, { additionalProperties: false }),
      response: { 200: jsonResponse('The passkeys', PasskeyListSchema), ...problemResponses(...AUTH_ERRORS) }
    }
  }, async (request) => ({ passkeys: (await adminPasskeys.list(request.params.id)).map(passkeyView) }))

  app.delete('/users/:id/passkeys/:passkeyId', {
    config: limit,
    schema: {
      operationId: 'adminRemoveUserPasskey',
      summary: 'Remove a passkey of a user who lost its device',
      description: 'The passkey stops signing in at once; the user\'s sessions stay (end them with DELETE /v1/admin/users/{id}/sessions when the device was stolen). 404 not_found for an unknown user or passkey.',
      tags,
      security,
      params: Type.Object({ id: id('a user id'), passkeyId: id('the id of one of the user\'s passkeys') }, { additionalProperties: false }),
      response: { 204: Type.Null({ description: 'removed' }), ...problemResponses(...PARSE_ERRORS, ...AUTH_ERRORS) }
    }
  }, async (request, reply) => {
    await adminPasskeys.remove(request.adminKeyName, request.params.id, request.params.passkeyId)
    return reply.code(204).send(null)
  })
}

export default adminPasskeyRoutes
