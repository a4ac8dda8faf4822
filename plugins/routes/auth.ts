import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { AppError } from '../../src/errors.ts'
import { normaliseIdentifier } from '../../src/users/identifiers.ts'
import { hashRefreshToken, newRefreshToken } from '../../src/sessions/tokens.ts'
import { ContactBodyProperties, LocaleSchema } from '../schemas/identifiers.ts'
import { ChallengeIdSchema, ChallengeSchema, VerifyBodySchema } from '../schemas/challenge.ts'
import { RefreshTokenSchema, TOKEN_PAIR_EXAMPLE, TokenPairSchema } from '../schemas/tokens.ts'
import { USER_EXAMPLE, UserSchema } from '../schemas/user.ts'
import { challengeView, deliverChallenge, identifierKind } from './issue-challenge.ts'
import { userView } from './user-view.ts'
import { perMinute } from '../rate-limit.ts'

const problem = { $ref: 'Problem#' }
const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, problem]))

const StartBodySchema = Type.Object({
  ...ContactBodyProperties,
  purpose: Type.Optional(Type.Literal('login', { default: 'login', description: 'what the code is for' })),
  locale: Type.Optional(LocaleSchema)
}, {
  additionalProperties: false,
  description: 'exactly one of email or phone',
  examples: [{ email: 'jane@example.org', locale: 'en' }, { phone: '+12015550123' }]
})

const LoginSchema = Type.Object({ ...TokenPairSchema.properties, user: UserSchema }, {
  $id: 'Login',
  examples: [{ ...TOKEN_PAIR_EXAMPLE, user: USER_EXAMPLE }]
})

/** Public routes of /v1/auth: ask for a code, verify it, refresh and end sessions. */
const authRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { otp, users, sessions, now } = app
  const startLimit = { rateLimit: perMinute(config.RATE_LIMIT_START_PER_MINUTE) }
  const verifyLimit = { rateLimit: perMinute(config.RATE_LIMIT_VERIFY_PER_MINUTE) }
  const refreshLimit = { rateLimit: perMinute(config.RATE_LIMIT_REFRESH_PER_MINUTE) }
  const defaultLimit = { rateLimit: perMinute(config.RATE_LIMIT_DEFAULT_PER_MINUTE) }

  app.post('/otp', {
    config: startLimit,
    schema: {
      operationId: 'startOtp',
      summary: 'Send a one-time code to an email address or phone number',
      description: 'Answers 202 with the same shape whether or not an account exists. The code is never in the response.',
      tags: ['auth'],
      body: StartBodySchema,
      response: { 202: ChallengeSchema, ...problems(400, 422, 429, 502, 503) }
    }
  }, async (request, reply) => {
    const { kind, value } = normaliseIdentifier(request.body, config.DEFAULT_REGION)
    const user = await users.findByIdentifier(kind, value)
    // closed sign-up and disabled users get a decoy: same work and answer, no message, never verifiable
    const deliverable = user ? user.status === 'active' : config.SIGNUP === 'open'
    const challenge = await otp.startChallenge({
      purpose: 'login',
      channel: kind === 'email' ? 'email' : 'sms',
      destination: value,
      userId: user?.id ?? null,
      locale: request.body.locale ?? user?.locale ?? null,
      deliverable
    })
    await deliverChallenge(app, challenge, config.OTP_TTL_SECONDS)
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
      response: { 202: ChallengeSchema, ...problems(400, 410, 422, 429, 502, 503) }
    }
  }, async (request, reply) => {
    const challenge = await otp.resendChallenge(request.body.challengeId)
    await deliverChallenge(app, challenge, config.OTP_TTL_SECONDS)
    return reply.code(202).send(challengeView(challenge))
  })

  app.post('/otp/verify', {
    config: verifyLimit,
    schema: {
      operationId: 'verifyOtp',
      summary: 'Exchange a code for a session',
      description: 'Signs the user up on first login when SIGNUP=open.',
      tags: ['auth'],
      body: VerifyBodySchema,
      response: { 200: LoginSchema, ...problems(400, 410, 429, 503) }
    }
  }, async (request) => {
    const verified = await otp.verifyChallenge({ ...request.body, purpose: 'login' })
    if (!verified.deliverable) throw new AppError('invalid_code')
    const kind = identifierKind(verified.channel)
    let user = verified.userId ? await users.findById(verified.userId) : null
    if (user === null) {
      if (config.SIGNUP === 'closed') throw new AppError('invalid_code')
      user = (await users.findOrCreateByIdentifier(kind, verified.destination, { locale: verified.locale })).user
    }
    if (user.status !== 'active') throw new AppError('invalid_code')
    const loggedIn = await users.recordLogin(user.id, kind, now()) ?? user
    const pair = await app.openSession(loggedIn, ['otp'], request)
    return { ...pair, user: userView(loggedIn) }
  })

  app.post('/token/refresh', {
    config: refreshLimit,
    schema: {
      operationId: 'refreshToken',
      summary: 'Rotate a refresh token into a new pair',
      description: 'Each refresh token works once. Presenting one that was already rotated ends the whole session (401 token_reused).',
      tags: ['auth'],
      body: Type.Object({ refreshToken: RefreshTokenSchema }, { additionalProperties: false, examples: [{ refreshToken: 'q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA' }] }),
      response: { 200: TokenPairSchema, ...problems(400, 401, 429, 503) }
    }
  }, async (request) => {
    const refreshToken = newRefreshToken()
    const at = now()
    const result = await sessions.rotate({
      tokenHash: hashRefreshToken(request.body.refreshToken),
      newHash: hashRefreshToken(refreshToken),
      now: at,
      expiresAt: new Date(at.getTime() + config.REFRESH_TOKEN_TTL_SECONDS * 1000),
      // no grace window: of parallel refreshes with one token exactly one wins, the others end the session
      graceSeconds: 0
    })
    if (result.outcome === 'reused') throw new AppError('token_reused')
    if (result.outcome === 'invalid') throw new AppError('unauthorized', { detail: 'The refresh token is not valid.' })
    return app.signPair(result.session.userId, result.session.id, result.session.amr, refreshToken)
  })

  // the routes that need a session: a sibling context behind the authenticate hook
  await app.register(async (context) => {
    const protectedApp = context.withTypeProvider<TypeBoxTypeProvider>()
    protectedApp.addHook('onRequest', app.authenticate)
    const security = [{ bearerAuth: [] }]

    protectedApp.post('/logout', {
      config: defaultLimit,
      schema: {
        operationId: 'logout',
        summary: 'End this session',
        description: 'Ends the session of the access token, and the one of `refreshToken` when given (it must be yours).',
        tags: ['auth'],
        security,
        body: Type.Object({ refreshToken: Type.Optional(RefreshTokenSchema) }, { additionalProperties: false, examples: [{}, { refreshToken: 'q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA' }] }),
        response: { 204: Type.Null({ description: 'ended' }), ...problems(400, 401, 503) }
      }
    }, async (request, reply) => {
      const at = now()
      await sessions.revoke(request.user.sid, request.user.sub, at)
      const refreshToken = request.body?.refreshToken
      if (refreshToken) await sessions.revokeByTokenHash(hashRefreshToken(refreshToken), request.user.sub, at)
      return reply.code(204).send(null)
    })

    protectedApp.post('/logout/all', {
      config: defaultLimit,
      schema: {
        operationId: 'logoutAll',
        summary: 'End every session of the user',
        tags: ['auth'],
        security,
        response: { 204: Type.Null({ description: 'ended' }), ...problems(401, 503) }
      }
    }, async (request, reply) => {
      await sessions.revokeAll(request.user.sub, now())
      return reply.code(204).send(null)
    })
  })
}

export default authRoutes
