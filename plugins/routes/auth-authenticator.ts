import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { normaliseIdentifier } from '../../src/users/identifiers.ts'
import { routeLimits } from '../rate-limit.ts'
import { contactBodySchema } from '../schemas/identifiers.ts'
import { LoginSchema, MfaTokenSchema } from '../schemas/login.ts'
import { BODY_ERRORS, jsonResponse, problemResponses } from '../schemas/responses.ts'
import { SecondFactorCodeSchema, TotpCodeSchema } from '../schemas/authenticator.ts'
import { userView } from '../schemas/user.ts'
import { clientInfo } from '../auth.ts'

const tags = ['totp']

/** Public logins with an authenticator app: as the second factor after an email/SMS code, or on its own. */
const totpLoginRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { loginService, sessionCookie, deviceCookie } = app
  const { verifyLimit } = routeLimits(config)

  app.post('/mfa/verify', {
    config: verifyLimit,
    schema: {
      operationId: 'verifyMfa',
      summary: 'Complete a login with a code of the authenticator app or a recovery code',
      description: 'The mfaToken comes from POST /v1/auth/otp/verify and completes one login; a wrong code leaves it usable until it expires or the account locks. The access token\'s amr is `["otp","totp","mfa"]`, or `["otp","recovery","mfa"]` with a recovery code.',
      tags,
      security: [],
      body: Type.Object({ mfaToken: MfaTokenSchema, code: SecondFactorCodeSchema }, {
        additionalProperties: false,
        examples: [{ mfaToken: 'Vb3x9Kq2Lm8Zr1Yc4Td7Ws0Pf6Hn5Ju2Ae9Gk3Xo1Qi', code: '492039' }]
      }),
      response: { 200: jsonResponse('Signed in: a token pair and the user', LoginSchema), ...problemResponses(...BODY_ERRORS, 'invalid_code', 'challenge_expired', 'rate_limited') }
    }
  }, async (request, reply) => {
    const { user, ...pair } = await loginService.completeSecondFactor(
      request.body.mfaToken, request.body.code, clientInfo(request)
    )
    const answer = sessionCookie.handOver(request, reply, { ...pair, user: userView(user) })
    return deviceCookie.handOver(request, reply, answer)
  })

  app.post('/totp', {
    // one factor: only where the deployment chose it
    config: { ...verifyLimit, disabled: !config.TOTP_PRIMARY_LOGIN },
    schema: {
      operationId: 'loginWithTotp',
      summary: 'Log in with an email or phone and a code of the authenticator app',
      description: 'Only when the server sets TOTP_PRIMARY_LOGIN=true (404 otherwise): the code is the only factor. For users who added an authenticator app; everyone else gets the answer of a wrong code (400 invalid_code), counted the same way. Wrong codes here are throttled apart from the app as a second factor, so guessing here never refuses the app after an email or SMS code. The access token\'s amr is `["totp"]`.',
      tags,
      security: [],
      body: contactBodySchema({ code: TotpCodeSchema }, [{ email: 'jane@example.org', code: '492039' }]),
      response: { 200: jsonResponse('Signed in: a token pair and the user', LoginSchema), ...problemResponses(...BODY_ERRORS, 'invalid_code', 'login_suspended', 'rate_limited') }
    }
  }, async (request, reply) => {
    const identifier = normaliseIdentifier(request.body, config.DEFAULT_REGION)
    const { user, ...pair } = await loginService.loginWithTotp(identifier, request.body.code, clientInfo(request))
    return sessionCookie.handOver(request, reply, { ...pair, user: userView(user) })
  })
}

export default totpLoginRoutes
