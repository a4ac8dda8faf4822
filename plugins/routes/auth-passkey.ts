import { Type } from 'typebox'
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { routeLimits } from '../rate-limit.ts'
import { BODY_ERRORS, jsonResponse, problemResponses } from '../schemas/responses.ts'
import { LoginSchema, MfaTokenSchema } from '../schemas/login.ts'
import { AUTHENTICATION_CREDENTIAL_EXAMPLE, AuthenticationCredentialSchema, RequestOptionsSchema } from '../schemas/passkey.ts'
import { userView } from '../schemas/user.ts'
import { clientInfo } from '../auth.ts'
import { passkeysOff, whenOn } from '../passkeys-off.ts'

const tags = ['passkeys']
const CredentialBodySchema = Type.Object({ credential: AuthenticationCredentialSchema }, {
  additionalProperties: false, examples: [{ credential: AUTHENTICATION_CREDENTIAL_EXAMPLE }]
})
const MFA_TOKEN = 'Vb3x9Kq2Lm8Zr1Yc4Td7Ws0Pf6Hn5Ju2Ae9Gk3Xo1Qi'
const REFUSALS = 'An unknown or removed passkey, another origin or RP ID, a challenge that is unknown, expired or already answered, or a signature counter that went backwards: 401 `invalid_passkey`, counted as a wrong code is (per credential and per client IP; 429 `rate_limited` with Retry-After when throttled).'

/** Public passkey sign-ins (docs/passkeys.md): alone, or as the second factor after a code; 404 while off. */
const passkeyLoginRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { passkeyLogin, sessionCookie } = app
  if (passkeyLogin === null) app.addHook('onRequest', passkeysOff)
  const { startLimit, verifyLimit } = routeLimits(config)

  app.post('/passkey/options', {
    config: { ...startLimit, optionalBody: true },
    schema: {
      operationId: 'passkeySignInOptions',
      summary: 'Options to sign in with a passkey: pass them to navigator.credentials.get()',
      description: 'No body (or `{}`). The answer is the PublicKeyCredentialRequestOptionsJSON itself, without an allow list: the browser offers any passkey of this site, also in an email field\'s autofill (conditional mediation). Its challenge answers once, within 5 minutes.',
      tags,
      security: [],
      body: Type.Object({}, { additionalProperties: false, examples: [{}] }),
      response: { 200: jsonResponse('Request options', RequestOptionsSchema), ...problemResponses(...BODY_ERRORS, 'not_found', 'rate_limited') }
    }
  }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return await whenOn(passkeyLogin).signInOptions()
  })

  app.post('/passkey/verify', {
    config: verifyLimit,
    schema: {
      operationId: 'verifyPasskey',
      summary: 'Sign in with a passkey',
      description: `Post \`{ credential: credential.toJSON() }\`; answers as POST /v1/auth/otp/verify does with a session (browsers with SESSION_COOKIE=on: the refresh token in the cookie), never with an MFA step: a passkey with user verification is two factors. The access token's amr is \`["webauthn"]\`. ${REFUSALS}`,
      tags,
      security: [],
      body: CredentialBodySchema,
      response: { 200: jsonResponse('Signed in: a token pair and the user', LoginSchema), ...problemResponses(...BODY_ERRORS, 'invalid_passkey', 'not_found', 'rate_limited') }
    }
  }, async (request, reply) => {
    const credential = request.body.credential as unknown as AuthenticationResponseJSON
    const { user, ...pair } = await whenOn(passkeyLogin).signIn(credential, clientInfo(request))
    return sessionCookie.handOver(request, reply, { ...pair, user: userView(user) })
  })

  app.post('/mfa/passkey/options', {
    config: startLimit,
    schema: {
      operationId: 'passkeySecondFactorOptions',
      summary: 'Options to complete a login with a passkey as the second factor',
      description: 'For an MfaChallenge whose `methods` include `webauthn`: request options allowing only that user\'s passkeys, bound to this mfaToken (which stays usable). 410 `challenge_expired` for an expired or used mfaToken, 404 when the account has no passkey.',
      tags,
      security: [],
      body: Type.Object({ mfaToken: MfaTokenSchema }, {
        additionalProperties: false, examples: [{ mfaToken: MFA_TOKEN }]
      }),
      response: { 200: jsonResponse('Request options', RequestOptionsSchema), ...problemResponses(...BODY_ERRORS, 'challenge_expired', 'not_found', 'rate_limited') }
    }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    return await whenOn(passkeyLogin).secondFactorOptions(request.body.mfaToken)
  })

  app.post('/mfa/passkey/verify', {
    config: verifyLimit,
    schema: {
      operationId: 'verifyMfaPasskey',
      summary: 'Complete a login with a passkey as the second factor',
      description: `Post \`{ mfaToken, credential }\`, the credential answering the options of POST /v1/auth/mfa/passkey/options for the same mfaToken; answers as POST /v1/auth/mfa/verify does. The access token's amr is \`["otp","webauthn","mfa"]\`. A refused passkey leaves the mfaToken usable until it expires. ${REFUSALS}`,
      tags,
      security: [],
      body: Type.Object({ mfaToken: MfaTokenSchema, credential: AuthenticationCredentialSchema }, {
        additionalProperties: false, examples: [{ mfaToken: MFA_TOKEN, credential: AUTHENTICATION_CREDENTIAL_EXAMPLE }]
      }),
      response: { 200: jsonResponse('Signed in: a token pair and the user', LoginSchema), ...problemResponses(...BODY_ERRORS, 'invalid_passkey', 'challenge_expired', 'not_found', 'rate_limited') }
    }
  }, async (request, reply) => {
    const { mfaToken, credential } = request.body
    const { user, ...pair } = await whenOn(passkeyLogin).completeSecondFactor(
      mfaToken, credential as unknown as AuthenticationResponseJSON, clientInfo(request)
    )
    return sessionCookie.handOver(request, reply, { ...pair, user: userView(user) })
  })
}

export default passkeyLoginRoutes
