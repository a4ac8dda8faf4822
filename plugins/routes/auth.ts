import { Type } from 'typebox'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { normaliseIdentifier } from '../../src/users/identifiers.ts'
import { AppError } from '../../src/errors.ts'
import { contactBodySchema, LocaleSchema } from '../schemas/identifiers.ts'
import { ChallengeIdSchema, ChallengeSchema, LinkTokenSchema, VerifyBodySchema, challengeView } from '../schemas/challenge.ts'
import { RefreshTokenSchema, TokenPairSchema } from '../schemas/tokens.ts'
import { DeviceTokenSchema, LoginOrMfaChallengeSchema, LoginSchema, MfaChallengeSchema } from '../schemas/login.ts'
import { userView } from '../schemas/user.ts'
import type { MfaChallengeView, SignedIn } from '../../src/auth/login-service.ts'
import type { DeliveryLogger } from '../../src/delivery/delivery.ts'
import { clientInfo } from '../auth.ts'
import { routeLimits } from '../rate-limit.ts'
import { BODY_ERRORS, PARSE_ERRORS, answerAs, jsonResponse, problemResponses } from '../schemas/responses.ts'

// what asking for a code can end in, after the body is read: delivery itself happens off the request path
const SEND_ERRORS = ['invalid_destination', 'destination_blocked', 'cooldown', 'rate_limited'] as const

const StartBodySchema = contactBodySchema({
  purpose: Type.Optional(Type.Literal('login', { description: 'what the code is for; `login`, the only purpose, when left out' })),
  locale: Type.Optional(LocaleSchema),
  deviceToken: Type.Optional(DeviceTokenSchema)
}, [{ email: 'jane@example.org', locale: 'en' }, { phone: '+12015550123', deviceToken: 'd1.1795428300.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA' }])

/** The request's logger, as a child naming the component only once a line is written: most requests write none. */
function deliveryLog (request: FastifyRequest): DeliveryLogger {
  let child: FastifyBaseLogger | undefined
  const log = () => (child ??= request.log.child({ component: 'delivery' }))
  return { info: (obj, msg) => log().info(obj, msg), warn: (obj, msg) => log().warn(obj, msg) }
}

/** Public routes of /v1/auth: ask for a code, verify it, refresh and end sessions. */
const authRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { loginService, sessionService, sessionCookie, deviceCookie, undoLinks, audit } = app
  /** A sign-in's answer; for browsers the refresh token into the session cookie, the device token into its own. */
  const signedIn = (request: FastifyRequest, reply: FastifyReply, result: SignedIn | MfaChallengeView) => {
    // the answer's branch of LoginOrMfaChallenge is known here: serialised with it (responses.ts answerAs)
    if (!('user' in result)) return answerAs(reply, MfaChallengeSchema, result)
    const answer = sessionCookie.handOver(request, reply, { ...result, user: userView(result.user) })
    return answerAs(reply, LoginSchema, deviceCookie.handOver(request, reply, answer))
  }
  const { startLimit, verifyLimit, refreshLimit, defaultLimit } = routeLimits(config)

  app.post('/otp', {
    config: startLimit,
    schema: {
      operationId: 'startOtp',
      summary: 'Send a one-time code to an email address or phone number',
      description: 'Answers 202 once the code is queued for delivery, with the same shape, status and timing whether or not an account exists. The code is never in the response. Delivery happens after the answer: a code that never arrives is asked for again with POST /v1/auth/otp/resend once `resendAfter` has passed. A device that signed in with this email or phone before sends its `deviceToken` (browsers: the httpOnly device cookie, sent by itself): its requests use the owner\'s own cooldown, quotas and wrong-code throttle, which anonymous requests cannot spend. While the destination\'s codes are suspended (too many wrong ones today) the message carries a sign-in link instead (`method: link`).',
      tags: ['auth'],
      body: StartBodySchema,
      security: [],
      response: { 202: jsonResponse('A code is on its way, unless the address cannot sign in', ChallengeSchema), ...problemResponses(...BODY_ERRORS, ...SEND_ERRORS) }
    }
  }, async (request, reply) => {
    const identifier = normaliseIdentifier(request.body, config.DEFAULT_REGION)
    const challenge = await loginService.start(
      identifier, request.body.locale ?? null, deliveryLog(request), request.ip,
      deviceCookie.presented(request, request.body.deviceToken)
    )
    return reply.code(202).send(challengeView(challenge))
  })

  app.post('/otp/resend', {
    config: startLimit,
    schema: {
      operationId: 'resendOtp',
      summary: 'Send a new code for a pending challenge',
      description: 'The previous code stops working; the resend cooldown and send quota apply.',
      tags: ['auth'],
      body: Type.Object({ challengeId: ChallengeIdSchema }, { additionalProperties: false, examples: [{ challengeId: '3f2a.Xk3v9Qm1aZ0b7Yc2Ld5eFw' }] }),
      security: [],
      response: { 202: jsonResponse('A new code is on its way', ChallengeSchema), ...problemResponses(...BODY_ERRORS, 'challenge_expired', ...SEND_ERRORS) }
    }
  }, async (request, reply) => {
    const challenge = await loginService.resend(request.body.challengeId, deliveryLog(request), request.ip)
    return reply.code(202).send(challengeView(challenge))
  })

  app.post('/otp/verify', {
    config: verifyLimit,
    schema: {
      operationId: 'verifyOtp',
      summary: 'Exchange a code for a session',
      description: 'Signs the user up on first login when SIGNUP=open. A user with an authenticator app (and MFA=required_when_enrolled) gets `{ mfaRequired, mfaToken }` instead of tokens, to complete with POST /v1/auth/mfa/verify. A sign-in answers a `deviceToken` for this device (browsers: an httpOnly cookie instead). While the destination\'s codes are suspended (too many wrong ones today, `Retry-After` says until when) every code is refused with 403 `login_suspended`, unchecked: ask for a new one, which comes as a sign-in link.',
      tags: ['auth'],
      body: VerifyBodySchema,
      security: [],
      response: { 200: jsonResponse('Signed in: a token pair and the user; or, for a user with an authenticator app, the second-factor challenge', LoginOrMfaChallengeSchema), ...problemResponses(...BODY_ERRORS, 'invalid_code', 'challenge_expired', 'too_many_attempts', 'login_suspended', 'rate_limited') }
    }
  }, async (request, reply) => {
    const { challengeId, code } = request.body
    return signedIn(request, reply, await loginService.verify(challengeId, code, clientInfo(request), request.log))
  })

  app.post('/link/verify', {
    config: verifyLimit,
    schema: {
      operationId: 'verifyLink',
      summary: 'Exchange a sign-in link for a session',
      description: 'The link a code request sends instead of a code while the destination\'s codes are suspended: MAGIC_LINK_URL#token=…. The page reads `token` from the fragment and posts it here. Single use, valid as long as a code; a wait or suspension of the destination\'s codes does not apply, and it ends the run of wrong codes (not the day\'s count). Answers as POST /v1/auth/otp/verify does; a wrong, used or expired token is 410 `challenge_expired`.',
      tags: ['auth'],
      body: Type.Object({ token: LinkTokenSchema }, { additionalProperties: false, examples: [{ token: '3f2a.Xk3v9Qm1aZ0b7Yc2Ld5eFw.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA' }] }),
      security: [],
      response: { 200: jsonResponse('Signed in: a token pair and the user; or, for a user with an authenticator app, the second-factor challenge', LoginOrMfaChallengeSchema), ...problemResponses(...BODY_ERRORS, 'invalid_code', 'challenge_expired', 'rate_limited') }
    }
  }, async (request, reply) => {
    return signedIn(request, reply, await loginService.verifyLink(request.body.token, clientInfo(request), request.log))
  })

  const cookieSessions = config.SESSION_COOKIE === 'on'
  app.post('/token/refresh', {
    // with cookie sessions a browser sends no body: the refresh token is in the cookie
    config: { ...refreshLimit, optionalBody: cookieSessions },
    schema: {
      operationId: 'refreshToken',
      summary: 'Rotate a refresh token into a new pair',
      description: 'Each refresh token works once. Presenting one that was already rotated, however long ago, ends the whole session (401 token_reused), except within REFRESH_REUSE_GRACE_SECONDS (10 s) of its rotation: parallel refreshes of one token (two tabs) all get the same new pair. With SESSION_COOKIE=on a browser leaves `refreshToken` out and sends the httpOnly cookie, from an allowed Origin (403 origin_not_allowed otherwise), and gets the new one in the cookie.',
      tags: ['auth'],
      body: Type.Object({ refreshToken: cookieSessions ? Type.Optional(RefreshTokenSchema) : RefreshTokenSchema }, { additionalProperties: false, examples: [{ refreshToken: '665f1c2e9b1e8a0012ab34cd.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA' }] }),
      security: [],
      response: { 200: jsonResponse('A new token pair; the presented refresh token no longer works', TokenPairSchema), ...problemResponses(...BODY_ERRORS, 'unauthorized', 'token_reused', 'origin_not_allowed', 'rate_limited') }
    }
  }, async (request, reply) => {
    const refreshToken = sessionCookie.presented(request, request.body.refreshToken)
    if (refreshToken === undefined) throw new AppError('unauthorized', { detail: 'No refresh token: none in the body, and no session cookie.' })
    return sessionCookie.handOver(request, reply, await sessionService.refresh(refreshToken))
  })

  app.post('/identifier/undo', {
    config: verifyLimit,
    schema: {
      operationId: 'undoIdentifierChange',
      summary: 'Take back an email or phone change, from the link the replaced one was sent',
      description: [
        'After an email or phone replaced another, the replaced one gets a notice with a link,',
        '`IDENTIFIER_UNDO_URL#token=…`, valid 7 days and once. The page posts the token here: the old identifier is',
        'given back and every session of the account ends (sign in again with it). No token comes back.',
        'An unknown, expired or used token: 410 `undo_link_invalid`, the same for all three.',
        'When another account holds the old identifier by now: 409 `conflict`, the sessions stay ended and the link',
        'stays valid for what is left of its 7 days.'
      ].join(' '),
      tags: ['auth'],
      body: Type.Object({
        token: Type.String({ minLength: 43, maxLength: 43, pattern: '^[A-Za-z0-9_-]{43}$', description: 'the `token` of the link\'s fragment' })
      }, { additionalProperties: false, examples: [{ token: 'q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA' }] }),
      security: [],
      response: { 204: Type.Null({ description: 'the old identifier is back and every session ended' }), ...problemResponses(...BODY_ERRORS, 'undo_link_invalid', 'conflict', 'rate_limited') }
    }
  }, async (request, reply) => {
    const { userId, kind, previous } = await undoLinks.undo(request.body.token)
    audit.record('contact_changed', { userId, identifier: previous, reason: `${kind}_restored` })
    return reply.code(204).send(null)
  })

  // the routes that need a session: a sibling context behind the authenticate hook
  await app.register(async (context) => {
    const protectedApp = context.withTypeProvider<TypeBoxTypeProvider>()
    protectedApp.addHook('preParsing', app.authenticate)
    const security = [{ bearerAuth: [] }]

    protectedApp.post('/logout', {
      // the body is optional: a bare POST ends the token's session
      config: { ...defaultLimit, optionalBody: true },
      schema: {
        operationId: 'logout',
        summary: 'End this session',
        description: 'Ends the session of the access token, and the one of `refreshToken` when given (it must be yours), or else of the session cookie (from an allowed Origin: 403 origin_not_allowed otherwise), which is cleared.',
        tags: ['auth'],
        security,
        body: Type.Object({ refreshToken: Type.Optional(RefreshTokenSchema) }, { additionalProperties: false, examples: [{}, { refreshToken: '665f1c2e9b1e8a0012ab34cd.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA' }] }),
        response: { 204: Type.Null({ description: 'ended' }), ...problemResponses('unauthorized', ...BODY_ERRORS, 'origin_not_allowed', 'rate_limited') }
      }
    }, async (request, reply) => {
      await sessionService.logout(request.user, sessionCookie.presented(request, request.body?.refreshToken))
      sessionCookie.clear(request, reply)
      return reply.code(204).send(null)
    })

    protectedApp.post('/logout/all', {
      config: defaultLimit,
      schema: {
        operationId: 'logoutAll',
        summary: 'End every session of the user',
        tags: ['auth'],
        security,
        response: { 204: Type.Null({ description: 'ended' }), ...problemResponses('unauthorized', ...PARSE_ERRORS, 'rate_limited') }
      }
    }, async (request, reply) => {
      await sessionService.endAll(request.user.sub)
      sessionCookie.clear(request, reply)
      return reply.code(204).send(null)
    })
  })
}

export default authRoutes
