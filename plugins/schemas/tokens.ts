import { Type } from 'typebox'

export const TOKEN_PAIR_EXAMPLE = { accessToken: 'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiI2NjVmIn0.c2ln', refreshToken: '665f1c2e9b1e8a0012ab34cd.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA', tokenType: 'Bearer', expiresIn: 900 }

export const TokenPairSchema = Type.Object({
  accessToken: Type.String({ description: 'EdDSA JWT; send as `Authorization: Bearer`' }),
  refreshToken: Type.Optional(Type.String({ description: 'opaque, single use: every refresh returns a new one. Absent for a browser request with SESSION_COOKIE=on: the token is in the httpOnly cookie then' })),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'access token lifetime in seconds', examples: [900] })
}, {
  $id: 'TokenPair',
  examples: [TOKEN_PAIR_EXAMPLE]
})

export const RefreshTokenSchema = Type.String({ minLength: 16, maxLength: 256, description: 'the refresh token of the last pair' })
