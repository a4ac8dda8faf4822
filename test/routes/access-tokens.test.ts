import t from 'tap'
import { createPublicKey, createHmac, generateKeyPairSync } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'

const b64url = (value: object | Buffer) => Buffer.from(Buffer.isBuffer(value) ? value : JSON.stringify(value)).toString('base64url')

/** A token with any header, signed with HMAC-SHA256 and the given secret: the classic algorithm confusion. */
function hs256 (header: object, payload: object, secret: string | Buffer): string {
  const signingInput = `${b64url(header)}.${b64url(payload)}`
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`
}

t.test('access tokens: only our EdDSA keys, our issuer and audience, live sessions', async (t) => {
  const app = await buildTestApp(t)
  const session = await login(app, { email: newEmail() })
  const { current } = app.signingKeys
  const [, payloadPart] = session.accessToken.split('.')
  const claims = JSON.parse(Buffer.from(payloadPart ?? '', 'base64url').toString())
  const me = (token: string) => app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })
  const refused = async (token: string, why: string) => {
    const response = await me(token)
    t.equal(response.statusCode, 401, why)
    t.equal(response.json().code, 'unauthorized', `${why}: code`)
  }

  t.equal((await me(session.accessToken)).statusCode, 200, 'the real token works')
  t.match(claims, { sub: session.user.id, sid: String, amr: ['otp'], iss: 'otp-gate', aud: 'otp-gate', exp: Number, iat: Number })

  const signWith = (options: Record<string, unknown>, key = current.privateKeyPem) =>
    createSigner({ key, algorithm: 'EdDSA', kid: current.kid, iss: 'otp-gate', aud: 'otp-gate', expiresIn: 60_000, ...options })

  const publicPem = current.publicKeyPem
  const jwk = createPublicKey(publicPem).export({ format: 'jwk' })
  await refused(hs256({ alg: 'HS256', typ: 'JWT', kid: current.kid }, claims, publicPem), 'HS256 signed with the public key (PEM)')
  await refused(hs256({ alg: 'HS256', typ: 'JWT', kid: current.kid }, claims, String(jwk.x)), 'HS256 signed with the JWKS x')
  await refused(`${b64url({ alg: 'none', typ: 'JWT', kid: current.kid })}.${b64url(claims)}.`, 'alg none')

  const stranger = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  await refused(signWith({ kid: 'someone-else' }, stranger)({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'unknown kid')
  await refused(signWith({}, stranger)({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'our kid, a stranger\'s key')
  await refused(signWith({ header: { jku: 'http://127.0.0.1:1/jwks.json', jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }, x5u: 'http://127.0.0.1:1/cert' } }, stranger)({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'jku/jwk/x5u headers are ignored')
  await refused(signWith({ notBefore: 3_600_000 })({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'future nbf')
  await refused(signWith({ expiresIn: 1 })({ sub: claims.sub, sid: claims.sid, amr: ['otp'], iat: Math.floor(Date.now() / 1000) - 120, exp: Math.floor(Date.now() / 1000) - 60 }), 'expired')
  await refused(signWith({ iss: 'https://evil.example' })({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'another issuer')
  await refused(signWith({ aud: 'another-api' })({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'another audience')
  await refused(signWith({})({ sub: claims.sub, amr: ['otp'] }), 'no session id')
  await refused(signWith({})({ sub: claims.sub, sid: '000000000000000000000000', amr: ['otp'] }), 'a session that does not exist')
  await refused(session.refreshToken, 'a refresh token sent as a bearer token')
  t.equal((await me(signWith({})({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }))).statusCode, 200, 'control: a well-formed token of ours passes')
})

t.test('10 parallel refreshes with one token leave at most one live chain', async (t) => {
  const app = await buildTestApp(t)
  const session = await login(app, { email: newEmail() })
  const answers = await Promise.all(Array.from({ length: 10 }, () =>
    app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })))
  const winners = answers.filter((answer) => answer.statusCode === 200)
  t.ok(winners.length <= 1, `at most one refresh succeeded (${winners.length})`)
  for (const loser of answers.filter((answer) => answer.statusCode !== 200)) t.equal(loser.statusCode, 401)

  let live = 0
  for (const winner of winners) {
    const next = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: winner.json().refreshToken } })
    if (next.statusCode === 200) live++
  }
  const sessions = await app.sessions.listActive(session.user.id, new Date())
  t.ok(live <= 1 && sessions.length <= 1, `at most one live chain (live refreshes ${live}, live sessions ${sessions.length})`)
})
