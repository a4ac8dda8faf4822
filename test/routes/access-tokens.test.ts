import t from 'tap'
import { createPublicKey, createHmac, generateKeyPairSync } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'
import { needsMongoDb } from '../helpers/mongo.ts'

const b64url = (value: object | Buffer) => Buffer.from(Buffer.isBuffer(value) ? value : JSON.stringify(value)).toString('base64url')

/** A token with any header, signed with HMAC-SHA256 and the given secret: the classic algorithm confusion. */
function hs256 (header: object, payload: object, secret: string | Buffer): string {
  const signingInput = `${b64url(header)}.${b64url(payload)}`
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`
}

t.test('access tokens: only our EdDSA keys, our issuer and audience, live sessions', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
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
    createSigner({ key, algorithm: 'EdDSA', kid: current.kid, iss: 'otp-gate', aud: 'otp-gate', header: { alg: 'EdDSA', typ: 'at+jwt' }, expiresIn: 60_000, ...options })

  const publicPem = current.publicKeyPem
  const jwk = createPublicKey(publicPem).export({ format: 'jwk' })
  await refused(hs256({ alg: 'HS256', typ: 'JWT', kid: current.kid }, claims, publicPem), 'HS256 signed with the public key (PEM)')
  await refused(hs256({ alg: 'HS256', typ: 'JWT', kid: current.kid }, claims, String(jwk.x)), 'HS256 signed with the JWKS x')
  await refused(`${b64url({ alg: 'none', typ: 'JWT', kid: current.kid })}.${b64url(claims)}.`, 'alg none')

  const stranger = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  await refused(signWith({ kid: 'someone-else' }, stranger)({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'unknown kid')
  await refused(signWith({}, stranger)({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'our kid, a stranger\'s key')
  await refused(signWith({ header: { alg: 'EdDSA', typ: 'at+jwt', jku: 'http://127.0.0.1:1/jwks.json', jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }, x5u: 'http://127.0.0.1:1/cert' } }, stranger)({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'jku/jwk/x5u headers are ignored')
  await refused(signWith({ notBefore: 3_600_000 })({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'future nbf')
  await refused(signWith({ expiresIn: 1 })({ sub: claims.sub, sid: claims.sid, amr: ['otp'], iat: Math.floor(Date.now() / 1000) - 120, exp: Math.floor(Date.now() / 1000) - 60 }), 'expired')
  await refused(signWith({ iss: 'https://evil.example' })({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'another issuer')
  await refused(signWith({ aud: 'another-api' })({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }), 'another audience')
  await refused(signWith({})({ sub: claims.sub, amr: ['otp'] }), 'no session id')
  // whether a session lives is Redis's revocation state, not a database read: an ended one is refused
  const ended = await login(app, { email: newEmail() })
  t.equal((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(ended.accessToken) })).statusCode, 204)
  await refused(ended.accessToken, 'a session that was ended')
  await refused(signWith({})({ sub: ended.user.id, sid: JSON.parse(Buffer.from(ended.accessToken.split('.')[1] ?? '', 'base64url').toString()).sid, amr: ['otp'] }), 'a new token of an ended session')
  await refused(session.refreshToken, 'a refresh token sent as a bearer token')
  t.equal((await me(signWith({})({ sub: claims.sub, sid: claims.sid, amr: ['otp'] }))).statusCode, 200, 'control: a well-formed token of ours passes')
})

// without a grace, MongoDB's atomic compare-and-swap picks the one winner: run where the server is a mongod
t.test('without a reuse grace, 10 parallel refreshes with one token: one winner, the others end the session', await needsMongoDb('atomicUpdates'), async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { REFRESH_REUSE_GRACE_SECONDS: '0' } })
  const session = await login(app, { email: newEmail() })
  const answers = await Promise.all(Array.from({ length: 10 }, () =>
    app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })))
  const winners = answers.filter((answer) => answer.statusCode === 200)
  t.equal(winners.length, 1, 'exactly one refresh succeeded')
  const losers = answers.filter((answer) => answer.statusCode !== 200)
  const codes = losers.map((loser) => `${loser.statusCode} ${loser.json().code}`)
  // the first to present the used token ends the session; who comes after finds it ended
  t.ok(codes.includes('401 token_reused'), 'reuse is detected')
  t.ok(codes.every((code) => code === '401 token_reused' || code === '401 unauthorized'), `the others are refused: ${codes.join(', ')}`)
  // reuse ends the session: the winner's pair dies with it, so no chain is left for a thief either
  const next = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: winners[0]!.json().refreshToken } })
  t.equal(next.statusCode, 401, 'the winner\'s refresh token is ended too')
  const me = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(winners[0]!.json().accessToken) })
  t.equal(me.statusCode, 401, 'and its access token')
  t.same(await app.sessions.listActive(session.user.id, new Date()), [], 'no live session')
})

// the default reuse grace: parallel refreshes of one token (two tabs) all get the one successor, so one chain lives
// on; as they all write that same successor, this holds on a server whose parallel writers of a document both match
t.test('within the reuse grace, 10 parallel refreshes with one token continue one chain', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const session = await login(app, { email: newEmail() })
  const sid = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()).sid
  const answers = await Promise.all(Array.from({ length: 10 }, () =>
    app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })))
  t.same(answers.map((answer) => answer.statusCode), Array(10).fill(200), 'every parallel refresh gets a pair')
  const pairs = answers.map((answer) => answer.json())
  t.equal(new Set(pairs.map((pair) => pair.refreshToken)).size, 1, 'all the same successor: one chain')
  t.not(pairs[0].refreshToken, session.refreshToken, 'and it is a new token')
  t.same(new Set(pairs.map((pair) => sid(pair.accessToken))), new Set([sid(session.accessToken)]), 'of the same session')
  t.equal((await app.sessions.listActive(session.user.id, new Date())).length, 1, 'one live session')
  const next = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: pairs[0].refreshToken } })
  t.equal(next.statusCode, 200, 'the chain rotates on')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(next.json().accessToken) })).statusCode, 200, 'and its access token works')
})

t.test('access tokens are typed at+jwt, live at most their lifetime from iat, and are never issued in the future', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { ACCESS_TOKEN_TTL_SECONDS: '600' } })
  const session = await login(app, { email: newEmail() })
  const header = JSON.parse(Buffer.from(session.accessToken.split('.')[0] ?? '', 'base64url').toString())
  t.equal(header.typ, 'at+jwt', 'the signer sets typ (RFC 9068)')
  const claims = JSON.parse(Buffer.from(session.accessToken.split('.')[1] ?? '', 'base64url').toString())
  const { current } = app.signingKeys
  const nowSeconds = Math.floor(Date.now() / 1000)
  const sign = (options: Record<string, unknown>, payload: Record<string, unknown> = {}) =>
    createSigner({ key: current.privateKeyPem, algorithm: 'EdDSA', kid: current.kid, iss: 'otp-gate', aud: 'otp-gate', header: { alg: 'EdDSA', typ: 'at+jwt' }, ...options })({ sub: claims.sub, sid: claims.sid, amr: ['otp'], ...payload })
  const status = async (token: string) => (await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode

  t.equal(await status(sign({ expiresIn: 60_000 })), 200, 'control: typ at+jwt, fresh')
  t.equal(await status(sign({ expiresIn: 60_000, header: { alg: 'EdDSA', typ: 'JWT' } })), 401, 'typ JWT (an ID token or any other JWT of the key) is refused')
  t.equal(await status(sign({}, { iat: nowSeconds - 700, exp: nowSeconds + 3600 })), 401, 'issued longer ago than the lifetime, whatever its exp')
  t.equal(await status(sign({}, { iat: nowSeconds + 3600, exp: nowSeconds + 4000 })), 401, 'iat in the future')
})
