import { Type } from 'typebox'
import { MFA_TOKEN_PATTERN } from '../../src/totp/mfa-challenges.ts'
import { DEVICE_TOKEN_PATTERN } from '../../src/auth/device-tokens.ts'
import { TOKEN_PAIR_EXAMPLE, TokenPairSchema } from './tokens.ts'
import { USER_EXAMPLE, UserSchema } from './user.ts'

const LOGIN_EXAMPLE = { ...TOKEN_PAIR_EXAMPLE, user: USER_EXAMPLE }
const MFA_CHALLENGE_EXAMPLE = { mfaRequired: true, mfaToken: 'Vb3x9Kq2Lm8Zr1Yc4Td7Ws0Pf6Hn5Ju2Ae9Gk3Xo1Qi', expiresIn: 300, methods: ['totp', 'recovery'] }

export const MfaTokenSchema = Type.String({ pattern: MFA_TOKEN_PATTERN, description: 'from the 200 answer of POST /v1/auth/otp/verify', examples: [MFA_CHALLENGE_EXAMPLE.mfaToken] })

export const DeviceTokenSchema = Type.String({
  pattern: DEVICE_TOKEN_PATTERN,
  description: 'this device\'s token for the email or phone it signed in with: send it back as `deviceToken` with POST /v1/auth/otp, so that its code requests use the owner\'s own budget, which anonymous requests cannot spend. Browsers (an allowed Origin) get it in an httpOnly cookie instead. Secret: store it like a refresh token, never log it',
  examples: ['d1.1795428300.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA']
})

/** A completed login: a token pair and the user; a device token after a code or link sign-in (not for browsers). */
export const LoginSchema = Type.Object({
  ...TokenPairSchema.properties, user: UserSchema, deviceToken: Type.Optional(DeviceTokenSchema)
}, {
  $id: 'Login',
  examples: [LOGIN_EXAMPLE]
})

/** The first factor passed, a second is due: no tokens yet. */
export const MfaChallengeSchema = Type.Object({
  mfaRequired: Type.Literal(true),
  mfaToken: Type.String({ description: 'opaque and single use: send it with a code to POST /v1/auth/mfa/verify' }),
  expiresIn: Type.Integer({ description: 'seconds the mfaToken stays valid', examples: [300] }),
  methods: Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('recovery'), Type.Literal('webauthn')]), { description: 'how the login may be completed now: a code of the authenticator app (`totp`), a recovery code, or a passkey of the account (`webauthn`, with passkeys on and one registered: POST /v1/auth/mfa/passkey/options, then /v1/auth/mfa/passkey/verify); not `totp` while the app\'s codes are suspended after too many wrong ones' })
}, {
  $id: 'MfaChallenge',
  examples: [MFA_CHALLENGE_EXAMPLE]
})

/** What a first factor answers: a session, or the second-factor challenge when the user has an authenticator app. */
export const LoginOrMfaChallengeSchema = Type.Union([LoginSchema, MfaChallengeSchema], {
  description: 'a Login, or an MfaChallenge when MFA=required_when_enrolled and the user has an authenticator app',
  examples: [LOGIN_EXAMPLE, MFA_CHALLENGE_EXAMPLE]
})
