import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { routeLimits } from '../rate-limit.ts'
import { jsonResponse, problemResponses } from '../schemas/responses.ts'
import { UserSchema, userView, USER_EXAMPLE } from '../schemas/user.ts'
import { SessionSchema, sessionView } from '../schemas/session.ts'
import { ActivityEventSchema } from './me-activity.ts'
import { PasskeySchema, passkeyView } from '../schemas/passkey.ts'

const nullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()])

const ExportSchema = Type.Object({
  exportedAt: Type.String({ format: 'date-time' }),
  user: UserSchema,
  identifiers: Type.Array(Type.Object({
    kind: Type.Union([Type.Literal('email'), Type.Literal('phone')]),
    value: Type.String(),
    verifiedAt: nullableTime
  })),
  sessions: Type.Array(SessionSchema),
  authenticator: Type.Object({
    status: Type.Union([Type.Literal('none'), Type.Literal('pending'), Type.Literal('active')]),
    confirmedAt: nullableTime
  }),
  passkeys: Type.Array(PasskeySchema, { description: 'names and times only: never a key' }),
  activity: Type.Array(ActivityEventSchema)
}, {
  examples: [{
    exportedAt: '2026-11-23T10:15:00.000Z',
    user: USER_EXAMPLE,
    identifiers: [{ kind: 'email', value: 'jane@example.org', verifiedAt: '2026-11-23T10:00:00.000Z' }],
    sessions: [],
    authenticator: { status: 'none', confirmedAt: null },
    passkeys: [],
    activity: []
  }]
})

const iso = (date: Date | null) => date === null ? null : date.toISOString()

/** GET /v1/me/export: the user's data as a JSON download (GDPR art. 20). */
const meExportRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { accountExport, now } = app
  app.addHook('preParsing', app.authenticate)
  const { defaultLimit } = routeLimits(config)

  app.get('', {
    config: defaultLimit,
    schema: {
      operationId: 'exportMe',
      summary: 'Download the signed-in user\'s data as JSON',
      description: 'The profile, identifiers with their verification times, metadata, live sessions, whether an authenticator app is bound, the passkeys (names and times), and the security activity; as an attachment (`Content-Disposition`). No secret is in it.',
      tags: ['me'],
      security: [{ bearerAuth: [] }],
      response: { 200: jsonResponse('The data, as a file', ExportSchema), ...problemResponses('unauthorized', 'rate_limited') }
    }
  }, async (request, reply) => {
    const data = await accountExport.of(request.account)
    const { user } = data
    const identifiers = (['email', 'phone'] as const).flatMap((kind) => {
      const value = user[kind]
      return value === null ? [] : [{ kind, value, verifiedAt: iso(user[kind === 'email' ? 'emailVerifiedAt' : 'phoneVerifiedAt']) }]
    })
    const at = now()
    reply.header('content-disposition', `attachment; filename="account-${at.toISOString().slice(0, 10)}.json"`)
    return {
      exportedAt: at.toISOString(),
      user: userView(user),
      identifiers,
      sessions: data.sessions.map((session) => sessionView(session, request.user.sid)),
      authenticator: { status: data.authenticator.status, confirmedAt: iso(data.authenticator.confirmedAt) },
      passkeys: data.passkeys.map(passkeyView),
      activity: data.activity.map(({ userId: _userId, at: when, ...event }) => ({ ...event, at: when.toISOString() }))
    }
  })
}

export default meExportRoutes
