import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { normaliseEmail, normaliseIdentifier, normalisePhone } from '../../src/users/identifiers.ts'
import { perMinute } from '../rate-limit.ts'
import { BODY_ERRORS, jsonResponse, problemResponses } from '../schemas/responses.ts'
import { EmailSchema, LocaleSchema, PhoneSchema } from '../schemas/identifiers.ts'
import { MetadataSchema } from '../schemas/user.ts'
import { ADMIN_USER_EXAMPLE, AdminUserSchema, adminUserView } from '../schemas/admin-user.ts'
import { SessionListSchema, sessionView } from '../schemas/session.ts'

const security = [{ adminApiKey: [] }]
const tags = ['admin']
const StatusSchema = Type.Union([Type.Literal('active'), Type.Literal('disabled')])
const IdParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'a user id', examples: ['665f1c2b9d3e4a0012345678'] })
}, { additionalProperties: false })
const AUTH_ERRORS = ['unauthorized', 'not_found', 'rate_limited'] as const

const UserPageSchema = Type.Object({
  users: Type.Array(AdminUserSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next (older) page; null on the last' })
}, { examples: [{ users: [ADMIN_USER_EXAMPLE], nextCursor: null }] })

/** /v1/admin/users: operators and product backends act on accounts with an admin API key (plugins/admin-auth.ts). */
const adminUserRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { adminUsers } = app
  app.addHook('preParsing', app.authenticateAdmin)
  const limit = { rateLimit: perMinute(config.RATE_LIMIT_ADMIN_PER_MINUTE) }

  app.get('/users', {
    config: limit,
    schema: {
      operationId: 'adminListUsers',
      summary: 'Users, newest first',
      description: '`email` and `phone` are normalised as at sign-in, then matched exactly. Page with `limit` (1 to 100, 20 when left out) and the `nextCursor` of the previous page.',
      tags,
      security,
      querystring: Type.Object({
        limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: 'users per page, 1 to 100; 20 when left out', examples: ['20'] })),
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the nextCursor of a previous page' })),
        email: Type.Optional(EmailSchema),
        phone: Type.Optional(PhoneSchema),
        status: Type.Optional(StatusSchema)
      }, { additionalProperties: false }),
      response: { 200: jsonResponse('A page of users', UserPageSchema), ...problemResponses('validation_failed', ...AUTH_ERRORS) }
    }
  }, async (request) => {
    const { limit: pageSize = '20', cursor, email, phone, status } = request.query
    const page = await adminUsers.list({
      limit: Number(pageSize),
      after: cursor ?? null,
      ...(email === undefined ? {} : { email: normaliseEmail(email, 'querystring.email') }),
      ...(phone === undefined ? {} : { phone: normalisePhone(phone, config.DEFAULT_REGION, 'querystring.phone') }),
      ...(status === undefined ? {} : { status })
    })
    return { users: page.users.map(adminUserView), nextCursor: page.nextCursor }
  })

  app.post('/users', {
    config: limit,
    schema: {
      operationId: 'adminCreateUser',
      summary: 'Create a user by email or phone',
      description: 'Nothing is sent: the identifier is verified at the user\'s first sign-in. 409 conflict when another account holds it.',
      tags,
      security,
      body: Type.Union([
        Type.Object({ email: EmailSchema, locale: Type.Optional(LocaleSchema), appMetadata: Type.Optional(MetadataSchema('roles, plan…')) }, { additionalProperties: false }),
        Type.Object({ phone: PhoneSchema, locale: Type.Optional(LocaleSchema), appMetadata: Type.Optional(MetadataSchema('roles, plan…')) }, { additionalProperties: false })
      ], { examples: [{ email: 'jane@example.org', appMetadata: { role: 'editor' } }] }),
      response: { 201: jsonResponse('The user', AdminUserSchema), ...problemResponses(...BODY_ERRORS, 'conflict', ...AUTH_ERRORS) }
    }
  }, async (request, reply) => {
    const { kind, value } = normaliseIdentifier(request.body, config.DEFAULT_REGION)
    const user = await adminUsers.create(request.adminKeyName, kind, value, request.body)
    return reply.code(201).send(adminUserView(user))
  })

  app.get('/users/:id', {
    config: limit,
    schema: {
      operationId: 'adminGetUser',
      summary: 'One user',
      tags,
      security,
      params: IdParamsSchema,
      response: { 200: jsonResponse('The user', AdminUserSchema), ...problemResponses('validation_failed', 'uri_too_long', ...AUTH_ERRORS) }
    }
  }, async (request) => adminUserView(await adminUsers.get(request.params.id)))

  app.patch('/users/:id', {
    config: limit,
    schema: {
      operationId: 'adminUpdateUser',
      summary: 'Disable or enable a user, set its metadata',
      description: 'Disabling ends every session and access token at once. `appMetadata` and `userMetadata` replace the whole object; `appMetadata` reaches the access token (`app_metadata` claim) at its next refresh. Every member is checked before anything is written.',
      tags,
      security,
      params: IdParamsSchema,
      body: Type.Object({
        status: Type.Optional(StatusSchema),
        appMetadata: Type.Optional(MetadataSchema('written by administrators only; the `app_metadata` claim')),
        userMetadata: Type.Optional(MetadataSchema('also written by the user'))
      }, { additionalProperties: false, minProperties: 1, examples: [{ status: 'disabled' }, { appMetadata: { role: 'admin' } }] }),
      response: { 200: jsonResponse('The updated user', AdminUserSchema), ...problemResponses(...BODY_ERRORS, 'uri_too_long', ...AUTH_ERRORS) }
    }
  }, async (request) => adminUserView(await adminUsers.update(request.adminKeyName, request.params.id, request.body)))

  app.delete('/users/:id', {
    config: limit,
    schema: {
      operationId: 'adminDeleteUser',
      summary: 'Delete a user and their data',
      description: 'The same erasure as DELETE /v1/me: the user, sessions, authenticator, recovery codes and security events are deleted, every token ends at once, and the verified email and phone are told.',
      tags,
      security,
      params: IdParamsSchema,
      response: { 204: Type.Null({ description: 'deleted' }), ...problemResponses(...BODY_ERRORS, 'uri_too_long', ...AUTH_ERRORS) }
    }
  }, async (request, reply) => {
    await adminUsers.delete(request.params.id)
    return reply.code(204).send(null)
  })

  app.get('/users/:id/sessions', {
    config: limit,
    schema: {
      operationId: 'adminListUserSessions',
      summary: 'A user\'s live sessions',
      tags,
      security,
      params: IdParamsSchema,
      response: { 200: jsonResponse('Live sessions, most recently used first', SessionListSchema), ...problemResponses('validation_failed', 'uri_too_long', ...AUTH_ERRORS) }
    }
  }, async (request) => {
    const sessions = await adminUsers.listSessions(request.params.id)
    return { sessions: sessions.map((session) => sessionView(session, null)) }
  })

  app.delete('/users/:id/sessions', {
    config: limit,
    schema: {
      operationId: 'adminEndUserSessions',
      summary: 'End every session of a user',
      description: 'Every refresh token and access token of the user stops working at once.',
      tags,
      security,
      params: IdParamsSchema,
      response: { 204: Type.Null({ description: 'ended' }), ...problemResponses(...BODY_ERRORS, 'uri_too_long', ...AUTH_ERRORS) }
    }
  }, async (request, reply) => {
    await adminUsers.endSessions(request.adminKeyName, request.params.id)
    return reply.code(204).send(null)
  })

  app.delete('/users/:id/authenticator', {
    config: limit,
    schema: {
      operationId: 'adminRemoveUserAuthenticator',
      summary: 'Remove the authenticator app of a user who lost it',
      description: 'The TOTP credential and its recovery codes go, and every session of the user ends. 404 not_found when the user has none.',
      tags,
      security,
      params: IdParamsSchema,
      response: { 204: Type.Null({ description: 'removed' }), ...problemResponses(...BODY_ERRORS, 'uri_too_long', ...AUTH_ERRORS) }
    }
  }, async (request, reply) => {
    await adminUsers.removeAuthenticator(request.adminKeyName, request.params.id)
    return reply.code(204).send(null)
  })

  app.post('/identifiers/unblock', {
    config: limit,
    schema: {
      operationId: 'adminUnblockIdentifier',
      summary: 'Lift the throttle and suspension of an email or phone',
      description: 'Clears the wrong-code throttle and the suspension of sign-in with codes and with the authenticator app for this identifier (and its account\'s).',
      tags,
      security,
      body: Type.Union([
        Type.Object({ email: EmailSchema }, { additionalProperties: false }),
        Type.Object({ phone: PhoneSchema }, { additionalProperties: false })
      ], { examples: [{ email: 'jane@example.org' }] }),
      response: { 204: Type.Null({ description: 'unblocked' }), ...problemResponses(...BODY_ERRORS, ...AUTH_ERRORS) }
    }
  }, async (request, reply) => {
    const { kind, value } = normaliseIdentifier(request.body, config.DEFAULT_REGION)
    await adminUsers.unblock(request.adminKeyName, kind, value)
    return reply.code(204).send(null)
  })
}

export default adminUserRoutes
