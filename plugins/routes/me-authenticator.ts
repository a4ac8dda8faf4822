import { Type } from 'typebox'
import QRCode from 'qrcode'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { routeLimits } from '../rate-limit.ts'
import { BODY_ERRORS, PARSE_ERRORS, jsonResponse, problemResponses } from '../schemas/responses.ts'
import { ReauthTokenSchema, RecoveryCodesSchema, SecondFactorCodeSchema, TotpCodeSchema } from '../schemas/authenticator.ts'
import { callerOf } from '../auth.ts'
import { AppError } from '../../src/errors.ts'

const security = [{ bearerAuth: [] }]
const tags = ['totp']
// what the answer of a code check can be, besides the body being refused
const CODE_ERRORS = ['unauthorized', ...BODY_ERRORS, 'invalid_code', 'rate_limited'] as const

const TotpStatusSchema = Type.Object({
  status: Type.Union([Type.Literal('none'), Type.Literal('pending'), Type.Literal('active')], { description: 'pending: enrolled, not confirmed yet' }),
  confirmedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  recoveryCodesLeft: Type.Integer({ minimum: 0 })
}, { examples: [{ status: 'active', confirmedAt: '2026-11-23T10:00:00.000Z', recoveryCodesLeft: 9 }] })

const EnrolmentSchema = Type.Object({
  otpauthUri: Type.String({ description: 'the new secret as an otpauth:// URI, for apps that take a link or for typing in; shown only now' }),
  qrCode: Type.String({ description: 'the same URI as a QR code, a PNG data URL' }),
  expiresAt: Type.String({ format: 'date-time', description: 'confirm before then' })
}, {
  examples: [{
    otpauthUri: 'otpauth://totp/otp-gate:jane%40example.org?issuer=otp-gate&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30',
    qrCode: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA...',
    expiresAt: '2026-11-23T10:15:00.000Z'
  }]
})

const body = <T extends typeof TotpCodeSchema | typeof SecondFactorCodeSchema>(code: T, example: string) =>
  Type.Object({ code }, { additionalProperties: false, examples: [{ code: example }] })

const REAUTH_EXAMPLE = '1795428300.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA'

const ConfirmBodySchema = Type.Object({
  code: TotpCodeSchema,
  reauthToken: Type.Optional(ReauthTokenSchema)
}, { additionalProperties: false, examples: [{ code: '492039' }, { code: '492039', reauthToken: REAUTH_EXAMPLE }] })

// one of the two: a code of the app (or a recovery code), or a step-up proof for an app added in the last 7 days
const RemoveBodySchema = Type.Object({
  code: Type.Optional(SecondFactorCodeSchema),
  reauthToken: Type.Optional(ReauthTokenSchema)
}, {
  additionalProperties: false,
  minProperties: 1,
  description: 'exactly one of code and reauthToken',
  examples: [{ code: '492039' }, { reauthToken: REAUTH_EXAMPLE }]
})

const oneProofOnly = () => new AppError('validation_failed', {
  detail: 'Send a code or a reauthToken, not both.',
  extensions: { errors: [{ field: 'body', message: 'must have exactly one of code and reauthToken' }] }
})

/** The signed-in user's authenticator app (TOTP) and recovery codes. Every route needs a bearer token. */
const totpRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { totp, audit, authenticatorEnrolment } = app
  app.addHook('preParsing', app.authenticate)
  const { startLimit, verifyLimit, defaultLimit } = routeLimits(config)

  app.get('', {
    config: defaultLimit,
    schema: {
      operationId: 'getTotpStatus',
      summary: 'Whether the user has an authenticator app, and how many recovery codes are left',
      tags,
      security,
      response: { 200: jsonResponse('The authenticator status', TotpStatusSchema), ...problemResponses('unauthorized', 'rate_limited') }
    }
  }, async (request) => {
    const status = await totp.status(request.account.id)
    return { ...status, confirmedAt: status.confirmedAt?.toISOString() ?? null }
  })

  app.post('', {
    config: startLimit,
    schema: {
      operationId: 'startTotpEnrolment',
      summary: 'Start adding an authenticator app: a new secret as a URI and a QR code',
      description: 'Replaces an enrolment not confirmed yet; 409 conflict while an app is active. The secret is never shown again: confirm it with POST /v1/me/totp/confirm.',
      tags,
      security,
      response: { 200: jsonResponse('Scan the QR code (or open the URI) in the app, then confirm a code', EnrolmentSchema), ...problemResponses('unauthorized', ...PARSE_ERRORS, 'conflict', 'rate_limited') }
    }
  }, async (request, reply) => {
    const user = request.account
    const { otpauthUri, expiresAt } = await totp.startEnrolment(user.id, user.email ?? user.phone ?? user.id)
    reply.header('cache-control', 'no-store')
    return { otpauthUri, qrCode: await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M' }), expiresAt: expiresAt.toISOString() }
  })

  app.post('/confirm', {
    config: verifyLimit,
    schema: {
      operationId: 'confirmTotpEnrolment',
      summary: 'Activate the authenticator app with a first code; answers the recovery codes',
      description: [
        'Binding an app to the account needs proof that the caller holds the account, as changing a sign-in identifier does:',
        'an access token whose sign-in (`auth_time`) is less than 5 minutes old, or a `reauthToken` from',
        '`POST /v1/me/reauth/verify`. Without one: 403 `reauthentication_required`, and the enrolment stays pending.',
        'The account\'s email (else its phone) is told. From now on, email and SMS logins ask for a second factor',
        '(unless MFA=off). The recovery codes are shown only in this answer.'
      ].join(' '),
      tags,
      security,
      body: ConfirmBodySchema,
      response: { 200: jsonResponse('Active; keep the recovery codes safe', RecoveryCodesSchema), ...problemResponses(...CODE_ERRORS, 'reauthentication_required', 'conflict', 'challenge_expired') }
    }
  }, async (request, reply) => {
    const user = request.account
    const recoveryCodes = await authenticatorEnrolment.confirm(
      callerOf(request.user), user, request.body.code, request.body.reauthToken, request.log.child({ component: 'delivery' })
    )
    audit.record('authenticator_added', { userId: user.id, reason: 'totp' })
    reply.header('cache-control', 'no-store')
    return { recoveryCodes }
  })

  app.delete('', {
    config: verifyLimit,
    schema: {
      operationId: 'removeTotp',
      summary: 'Remove the authenticator app and its recovery codes',
      description: [
        'Needs one of: a current `code` of the app, or a recovery code when the app is lost; or, for an app added',
        'in the last 7 days (one the owner may not have added), a `reauthToken` from `POST /v1/me/reauth/verify`,',
        'a code sent to the account\'s own email or phone. An older app with a `reauthToken`: 403 `reauthentication_required`.'
      ].join(' '),
      tags,
      security,
      body: RemoveBodySchema,
      response: { 204: Type.Null({ description: 'removed' }), ...problemResponses(...CODE_ERRORS, 'reauthentication_required', 'not_found') }
    }
  }, async (request, reply) => {
    const user = request.account
    const { code, reauthToken } = request.body
    if (code !== undefined && reauthToken !== undefined) throw oneProofOnly()
    await authenticatorEnrolment.remove(callerOf(request.user), code !== undefined ? { code } : { reauthToken: reauthToken ?? '' })
    audit.record('authenticator_removed', { userId: user.id, reason: 'totp' })
    return reply.code(204).send(null)
  })

  app.post('/recovery-codes', {
    config: verifyLimit,
    schema: {
      operationId: 'regenerateRecoveryCodes',
      summary: 'Replace the recovery codes with a new set',
      description: 'Needs a current code of the app, or a recovery code. The previous codes stop working.',
      tags,
      security,
      body: body(SecondFactorCodeSchema, '492039'),
      response: { 200: jsonResponse('The new recovery codes, shown only now', RecoveryCodesSchema), ...problemResponses(...CODE_ERRORS, 'not_found') }
    }
  }, async (request, reply) => {
    const user = request.account
    const recoveryCodes = await totp.regenerateRecoveryCodes(user.id, request.body.code)
    reply.header('cache-control', 'no-store')
    return { recoveryCodes }
  })
}

export default totpRoutes
