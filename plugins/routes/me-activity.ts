import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../../src/audit/audit-event.ts'
import { routeLimits } from '../rate-limit.ts'
import { jsonResponse, problemResponses } from '../schemas/responses.ts'

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])

export const ActivityEventSchema = Type.Object({
  id: Type.String(),
  type: Type.Unsafe<AuditEventType>({ type: 'string', enum: [...AUDIT_EVENT_TYPES] }),
  at: Type.String({ format: 'date-time' }),
  identifier: nullable(Type.String({ description: 'the email or phone concerned, masked' })),
  ip: nullable(Type.String()),
  userAgent: nullable(Type.String()),
  requestId: nullable(Type.String({ description: 'the X-Request-Id of the request, to quote to support' })),
  amr: nullable(Type.Array(Type.String(), { description: 'the methods of a sign-in, succeeded or failed' })),
  reason: nullable(Type.String({ description: 'e.g. invalid_code, logout, end_all, totp' })),
  actor: nullable(Type.String({ description: 'who did it when not the user: `admin:<key name>` for an administrator' }))
})

const ActivityPageSchema = Type.Object({
  events: Type.Array(ActivityEventSchema),
  nextCursor: nullable(Type.String({ description: 'pass as `cursor` for the next (older) page; null on the last' }))
}, {
  examples: [{
    events: [{
      id: '6650a1b2c3d4e5f607182930',
      type: 'sign_in_succeeded',
      at: '2026-11-23T10:00:00.000Z',
      identifier: 'j***@example.org',
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0',
      requestId: 'b7f1c2d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d',
      amr: ['otp'],
      reason: null,
      actor: null
    }],
    nextCursor: null
  }]
})

/** The signed-in user's own security activity: sign-ins, sessions ended, contacts and authenticators changed. */
const activityRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { audit } = app
  app.addHook('preParsing', app.authenticate)
  const { defaultLimit } = routeLimits(config)

  app.get('', {
    config: defaultLimit,
    schema: {
      operationId: 'listMyActivity',
      summary: 'The signed-in user\'s security events, newest first',
      description: 'Kept AUDIT_RETENTION_DAYS (90). Page with `limit` and the `nextCursor` of the previous page; a cursor that is not one answers 400 bad_request.',
      tags: ['me'],
      security: [{ bearerAuth: [] }],
      querystring: Type.Object({
        // a query string is text, and the server does not coerce types: 1 to 100 as digits
        limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: 'events per page, 1 to 100; 20 when left out', examples: ['20'] })),
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the nextCursor of a previous page' }))
      }, { additionalProperties: false }),
      response: { 200: jsonResponse('A page of events', ActivityPageSchema), ...problemResponses('unauthorized', 'validation_failed', 'bad_request', 'rate_limited') }
    }
  }, async (request) => {
    const { limit = '20', cursor } = request.query
    const page = await audit.list(request.user.sub, { limit: Number(limit), cursor })
    return {
      events: page.events.map(({ userId: _userId, at, ...event }) => ({ ...event, at: at.toISOString() })),
      nextCursor: page.nextCursor
    }
  })
}

export default activityRoutes
