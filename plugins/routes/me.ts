import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { AppError } from '../../src/errors.ts'
import { normaliseIdentifier } from '../../src/users/identifiers.ts'
import { contactBodySchema, LocaleSchema } from '../schemas/identifiers.ts'
import { ChallengeSchema, VerifyBodySchema, challengeView } from '../schemas/challenge.ts'
import { MetadataSchema, UserSchema, userView } from '../schemas/user.ts'
import { checkMetadata } from '../../src/users/metadata.ts'
import { callerOf } from '../auth.ts'
import { ReauthTokenSchema, SecondFactorCodeSchema } from '../schemas/authenticator.ts'
import { routeLimits } from '../rate-limit.ts'
import { BODY_ERRORS, jsonResponse, problemResponses } from '../schemas/responses.ts'
import { SessionListSchema, sessionView } from '../schemas/session.ts'

const security = [{ bearerAuth: [] }]

const ReauthProofSchema = Type.Object({
  reauthToken: Type.String({ description: 'send it as `reauthToken` with POST /v1/me/contacts/verify, POST /v1/me/totp/confirm or DELETE /v1/me/totp' }),
  expiresIn: Type.Integer({ description: 'seconds it stays valid' })
}, { examples: [{ reauthToken: '1795428300.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA', expiresIn: 300 }] })

const ContactVerifyBodySchema = Type.Object({
  ...VerifyBodySchema.properties,
  reauthToken: Type.Optional(ReauthTokenSchema),
  totpCode: Type.Optional(SecondFactorCodeSchema)
}, {
  additionalProperties: false,
  description: 'the code sent to the new email or phone; with a proof when it adds or replaces a sign-in identifier',
  examples: [{ challengeId: '3f2a.Xk3v9Qm1aZ0b7Yc2Ld5eFw', code: '123456', reauthToken: '1795428300.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA' }]
})

/** The signed-in user: profile, sessions, and adding a verified email or phone. Every route needs a bearer token. */
const meRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { users, sessions, sessionService, challengeIssuer, contacts, audit, erasure, now } = app
  app.addHook('preParsing', app.authenticate)
  const { startLimit, verifyLimit, defaultLimit } = routeLimits(config)

  app.get('', {
    config: defaultLimit,
    schema: { operationId: 'getMe', summary: 'The signed-in user', tags: ['me'], security, response: { 200: jsonResponse('The user', UserSchema), ...problemResponses('unauthorized', 'rate_limited') } }
  }, async (request) => userView(request.account))

  app.patch('', {
    config: defaultLimit,
    schema: {
      operationId: 'updateMe',
      summary: 'Change name, locale or userMetadata',
      description: '`userMetadata` replaces the whole object: a JSON object of at most 2 KB, no key starting with $ or holding a dot (400 validation_failed otherwise, nothing written). `appMetadata` is written by administrators only.',
      tags: ['me'],
      security,
      body: Type.Object({
        name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
        locale: Type.Optional(Type.Union([LocaleSchema, Type.Null()])),
        userMetadata: Type.Optional(MetadataSchema('yours to keep preferences in; never in a token'))
      }, { additionalProperties: false, minProperties: 1, examples: [{ name: 'Jane', locale: 'fr' }, { userMetadata: { theme: 'dark' } }] }),
      response: { 200: jsonResponse('The updated user', UserSchema), ...problemResponses('unauthorized', ...BODY_ERRORS, 'rate_limited') }
    }
  }, async (request) => {
    const { userMetadata, ...profile } = request.body
    const patch = userMetadata === undefined ? profile : { ...profile, userMetadata: checkMetadata('userMetadata', userMetadata) }
    const user = await users.updateProfile(request.user.sub, patch)
    if (user === null) throw new AppError('unauthorized', { detail: 'The account no longer exists.' })
    return userView(user)
  })

  app.delete('', {
    config: { ...verifyLimit, optionalBody: true },
    schema: {
      operationId: 'deleteMe',
      summary: 'Delete the account and its data',
      description: [
        'Needs the proof that changing an email or phone needs: an access token whose sign-in (`auth_time`) is less',
        'than 5 minutes old, a `reauthToken` from `POST /v1/me/reauth/verify`, or a `totpCode` (403',
        '`reauthentication_required` otherwise). The user, sessions, authenticator, recovery codes and security',
        'events are deleted; every token ends at once; the verified email and phone are told. Signing in again',
        'creates a new account.'
      ].join(' '),
      tags: ['me'],
      security,
      body: Type.Object({
        reauthToken: Type.Optional(ReauthTokenSchema),
        totpCode: Type.Optional(SecondFactorCodeSchema)
      }, { additionalProperties: false, examples: [{}, { totpCode: '123456' }] }),
      response: { 204: Type.Null({ description: 'deleted' }), ...problemResponses('unauthorized', ...BODY_ERRORS, 'reauthentication_required', 'rate_limited') }
    }
  }, async (request, reply) => {
    await erasure.eraseOwn(callerOf(request.user), request.body ?? {})
    return reply.code(204).send(null)
  })

  app.get('/sessions', {
    config: defaultLimit,
    schema: {
      operationId: 'listMySessions',
      summary: 'Live sessions of the signed-in user',
      tags: ['me'],
      security,
      response: { 200: jsonResponse('Live sessions, the current one flagged', SessionListSchema), ...problemResponses('unauthorized', 'rate_limited') }
    }
  }, async (request) => {
    const live = await sessions.listActive(request.user.sub, now())
    return { sessions: live.map((session) => sessionView(session, request.user.sid)) }
  })

  app.delete('/sessions/:id', {
    config: defaultLimit,
    schema: {
      operationId: 'endMySession',
      summary: 'End one of the signed-in user\'s sessions',
      tags: ['me'],
      security,
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'a session id from listMySessions', examples: ['665f1c2b9d3e4a0012345679'] }) }, { additionalProperties: false }),
      response: { 204: Type.Null({ description: 'ended' }), ...problemResponses('unauthorized', ...BODY_ERRORS, 'not_found', 'uri_too_long', 'rate_limited') }
    }
  }, async (request, reply) => {
    const ended = await sessionService.end(request.user.sub, request.params.id)
    if (!ended) throw new AppError('not_found', { detail: 'No such live session.' })
    return reply.code(204).send(null)
  })

  app.post('/contacts', {
    config: startLimit,
    schema: {
      operationId: 'startContactVerification',
      summary: 'Send a code to an email or phone to add to the account',
      description: 'The code goes to the new email or phone. Attaching it (`verifyContact`) needs proof of the account when it adds or replaces a sign-in identifier.',
      tags: ['me'],
      security,
      body: contactBodySchema({ locale: Type.Optional(LocaleSchema) }, [{ phone: '+12015550123' }]),
      response: { 202: jsonResponse('A code is on its way', ChallengeSchema), ...problemResponses('unauthorized', ...BODY_ERRORS, 'invalid_destination', 'destination_blocked', 'cooldown', 'rate_limited') }
    }
  }, async (request, reply) => {
    const user = request.account
    const { kind, value } = normaliseIdentifier(request.body, config.DEFAULT_REGION)
    const challenge = await challengeIssuer.issue({
      purpose: 'verify_contact',
      channel: kind === 'email' ? 'email' : 'sms',
      destination: value,
      userId: user.id,
      locale: request.body.locale ?? user.locale,
      deliverable: true
    }, request.log.child({ component: 'delivery' }), undefined, request.ip)
    return reply.code(202).send(challengeView(challenge))
  })

  app.post('/contacts/verify', {
    config: verifyLimit,
    schema: {
      operationId: 'verifyContact',
      summary: 'Attach the verified email or phone to the account',
      description: [
        'Adding or replacing the email or phone (both sign in) needs proof that the caller holds the account, one of:',
        'an access token whose sign-in (`auth_time`) is less than 5 minutes old; a `reauthToken` from',
        '`POST /v1/me/reauth/verify`; or a `totpCode` of the authenticator app (or a recovery code). Without one:',
        '403 `reauthentication_required`, and the challenge stays usable, so the same code works once proof is shown.',
        'After a change every other session of the user ends, and the replaced address (for an addition, the',
        'account\'s other one) is told. Re-verifying what the account already holds needs no proof.',
        '409 conflict when another account owns it.'
      ].join(' '),
      tags: ['me'],
      security,
      body: ContactVerifyBodySchema,
      response: { 200: jsonResponse('The user with the email or phone attached and verified', UserSchema), ...problemResponses('unauthorized', ...BODY_ERRORS, 'invalid_code', 'reauthentication_required', 'challenge_expired', 'too_many_attempts', 'rate_limited', 'conflict') }
    }
  }, async (request) => {
    const { reauthToken, totpCode, ...challenge } = request.body
    const { user, kind, destination } = await contacts.attachVerified(callerOf(request.user), challenge, { reauthToken, totpCode }, request.log.child({ component: 'delivery' }))
    audit.record('contact_changed', { userId: user.id, identifier: destination, reason: kind })
    return userView(user)
  })

  app.post('/reauth', {
    config: { ...startLimit, optionalBody: true },
    schema: {
      operationId: 'startReauthentication',
      summary: 'Send a step-up code to the account\'s own email or phone',
      description: 'The first step of proving the account before changing its email or phone: a code to the email the account has (or its phone, when it has no email or `channel` is `sms`). 409 conflict when it has none on that channel.',
      tags: ['me'],
      security,
      body: Type.Object({ channel: Type.Optional(Type.Union([Type.Literal('email'), Type.Literal('sms')], { description: 'where the code goes; default the email' })) }, { additionalProperties: false, examples: [{}, { channel: 'sms' }] }),
      response: { 202: jsonResponse('A code is on its way', ChallengeSchema), ...problemResponses('unauthorized', ...BODY_ERRORS, 'conflict', 'cooldown', 'rate_limited') }
    }
  }, async (request, reply) => {
    const user = request.account
    const challenge = await contacts.startReauthentication(user, request.body?.channel, request.log.child({ component: 'delivery' }), request.ip)
    return reply.code(202).send(challengeView(challenge))
  })

  app.post('/reauth/verify', {
    config: verifyLimit,
    schema: {
      operationId: 'verifyReauthentication',
      summary: 'Exchange the step-up code for a short-lived proof',
      description: 'The `reauthToken` proves, for 5 minutes and for this session only, that the caller holds the account: send it with `POST /v1/me/contacts/verify`.',
      tags: ['me'],
      security,
      body: VerifyBodySchema,
      response: { 200: jsonResponse('The proof', ReauthProofSchema), ...problemResponses('unauthorized', ...BODY_ERRORS, 'invalid_code', 'challenge_expired', 'too_many_attempts', 'rate_limited') }
    }
  }, async (request) => contacts.completeReauthentication(
    callerOf(request.user), request.body.challengeId, request.body.code
  ))
}

export default meRoutes
