import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { normaliseEmail, normalisePhone } from '../../src/users/identifiers.ts'
import { jsonResponse, problemResponses } from '../schemas/responses.ts'

const OutboxMessageSchema = Type.Object({
  to: Type.String(),
  channel: Type.Union([Type.Literal('email'), Type.Literal('sms')]),
  code: Type.String(),
  text: Type.String(),
  sentAt: Type.String({ format: 'date-time' })
})

/**
 * The dev outbox: messages that went nowhere but here, codes included. Only mounted with DEV_OUTBOX=true
 * (refused in production), or in the embedded mode for the channels without a provider.
 */
const devOutboxRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { outbox } = app
  app.get('/outbox', {
    schema: {
      operationId: 'listDevOutbox',
      summary: 'Messages delivered to the dev outbox for one destination, newest first',
      tags: ['dev'],
      security: [],
      querystring: Type.Object({ to: Type.String({ minLength: 3, maxLength: 254, description: 'an email or phone, normalised like any identifier', examples: ['jane@example.org'] }) }, { additionalProperties: false }),
      response: {
        200: jsonResponse('Messages, newest first; empty when none', Type.Object({ messages: Type.Array(OutboxMessageSchema) }, {
          examples: [{ messages: [{ to: 'jane@example.org', channel: 'email', code: '123456', text: 'Your otp-gate code is 123456', sentAt: '2026-11-23T10:00:00.000Z' }] }]
        })),
        ...problemResponses('validation_failed')
      }
    }
  }, async (request) => {
    const { to } = request.query
    const value = to.normalize('NFKC').includes('@') ? normaliseEmail(to, 'querystring.to') : normalisePhone(to, config.DEFAULT_REGION, 'querystring.to')
    return { messages: await outbox.list(value) }
  })
}

export default devOutboxRoutes
