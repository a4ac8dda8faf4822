import { LINK_TOKEN_PATTERN, type IssuedChallenge } from '../../src/otp/otp-engine.ts'
import { maskDestination } from '../../src/delivery/mask.ts'
import { Type } from 'typebox'

export const ChallengeIdSchema = Type.String({
  pattern: '^[0-9a-f]{4}\\.[A-Za-z0-9_-]{22}$',
  description: 'identifies one code request',
  examples: ['3f2a.Xk3v9Qm1aZ0b7Yc2Ld5eFw']
})

export const CodeSchema = Type.String({ pattern: '^[0-9]{4,10}$', description: 'the digits the user received', examples: ['123456'] })

export const ChallengeSchema = Type.Object({
  challengeId: ChallengeIdSchema,
  channel: Type.Union([Type.Literal('email'), Type.Literal('sms')]),
  expiresAt: Type.String({ format: 'date-time', description: 'the code stops working then' }),
  resendAfter: Type.String({ format: 'date-time', description: 'a new code can be asked for from then on' }),
  destination: Type.String({ description: 'where the code went, masked', examples: ['j***@example.org', '+1******0123'] }),
  method: Type.Union([Type.Literal('code'), Type.Literal('link')], {
    description: '`code`: the message carries a code to type. `link`: too many wrong codes were entered for this destination today, so its codes are suspended and the message carries a single-use sign-in link instead (MAGIC_LINK_URL#token=…, for POST /v1/auth/link/verify); the same for every address, with or without an account'
  })
}, {
  $id: 'Challenge',
  examples: [{ challengeId: '3f2a.Xk3v9Qm1aZ0b7Yc2Ld5eFw', channel: 'email', expiresAt: '2026-11-23T10:05:00.000Z', resendAfter: '2026-11-23T10:00:30.000Z', destination: 'j***@example.org', method: 'code' }]
})

export const LinkTokenSchema = Type.String({
  pattern: LINK_TOKEN_PATTERN,
  description: 'the `token` of the sign-in link\'s fragment (MAGIC_LINK_URL#token=…); single use',
  examples: ['3f2a.Xk3v9Qm1aZ0b7Yc2Ld5eFw.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA']
})

export const VerifyBodySchema = Type.Object({
  challengeId: ChallengeIdSchema,
  code: CodeSchema
}, { additionalProperties: false, examples: [{ challengeId: '3f2a.Xk3v9Qm1aZ0b7Yc2Ld5eFw', code: '123456' }] })

/** What the client sees of a challenge: never the code, and the destination masked. */
export function challengeView (challenge: IssuedChallenge) {
  return {
    challengeId: challenge.challengeId,
    channel: challenge.channel,
    expiresAt: challenge.expiresAt.toISOString(),
    resendAfter: challenge.resendAfter.toISOString(),
    destination: maskDestination(challenge.destination),
    method: challenge.linkToken === null ? 'code' as const : 'link' as const
  }
}
