import t from 'tap'
import { Writable } from 'node:stream'
import { buildTestApp, testConfig } from '../helpers/build-app.ts'
import { documentOf } from '../helpers/openapi.ts'
import { login, newEmail } from '../helpers/login.ts'

const partsOf = (token: string) => token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()))
const DISCOVERY = '/.well-known/openid-configuration'

t.test('access tokens carry the RFC 9068 claims, a new jti each', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { JWT_ISSUER: 'https://auth.example.com', JWT_AUDIENCE: 'https://api.example.com' } })
  const session = await login(app, { email: newEmail('claims') })
  const [header, claims] = partsOf(session.accessToken)
  t.match(header, { typ: 'at+jwt', alg: 'EdDSA', kid: app.signingKeys.current.kid })
  t.match(claims, {
    iss: 'https://auth.example.com',
    aud: 'https://api.example.com',
    sub: session.user.id,
    sid: String,
    amr: ['otp'],
    jti: /^[\w-]{22,}$/,
    auth_time: Number,
    iat: Number,
    exp: Number
  })
  t.equal(claims.exp - claims.iat, 900, 'exp is iat plus ACCESS_TOKEN_TTL_SECONDS')
  t.ok(claims.auth_time <= claims.iat, 'auth_time is the sign-in')
  const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })
  const [, next] = partsOf(refreshed.json().accessToken)
  t.not(next.jti, claims.jti, 'every token has its own jti')
  t.equal(next.sid, claims.sid, 'the same session')
})

t.test('the discovery document: served for an https issuer, or http on localhost; issuer, tokens and URL agree', async (t) => {
  for (const issuer of ['https://auth.example.com', 'http://127.0.0.1:3000', 'http://localhost:3000']) {
    const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { JWT_ISSUER: issuer } })
    const response = await app.inject({ method: 'GET', url: DISCOVERY })
    t.equal(response.statusCode, 200, `${issuer}: served`)
    t.match(response.headers['content-type'], /^application\/json/)
    const document = response.json()
    t.match(document, {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['EdDSA'],
      subject_types_supported: ['public'],
      response_types_supported: Array
    }, `${issuer}: the fields a JWT authorizer reads`)
    t.equal(`${document.issuer}${DISCOVERY}`, `${issuer}${DISCOVERY}`, 'the document is at {issuer}/.well-known/openid-configuration')
    const session = await login(app, { email: newEmail('discovery') })
    t.equal(partsOf(session.accessToken)[1].iss, document.issuer, `${issuer}: the tokens' iss`)
    const jwks = await app.inject({ method: 'GET', url: new URL(document.jwks_uri).pathname })
    t.equal(jwks.json().keys[0].kid, app.signingKeys.current.kid, 'jwks_uri names this server\'s key set')
  }
})

t.test('no discovery document for an issuer that is not such a URL; production warns', async (t) => {
  for (const issuer of ['otp-gate', 'http://auth.example.com', 'https://auth.example.com/tenant']) {
    const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { JWT_ISSUER: issuer } })
    const response = await app.inject({ method: 'GET', url: DISCOVERY })
    t.equal(response.statusCode, 404, `${issuer}: not served`)
    t.equal(response.json().code, 'not_found')
    t.notOk(Object.keys((await documentOf(app)).paths).includes(DISCOVERY), `${issuer}: not documented`)
  }
  const served = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { JWT_ISSUER: 'https://auth.example.com' } })
  t.ok(Object.keys((await documentOf(served)).paths).includes(DISCOVERY), 'documented where served')

  const warnings = async (env: Record<string, string>, nodeEnv: 'production' | 'test') => {
    const lines: Array<{ level: number, msg: string }> = []
    const stream = new Writable({ write (chunk, _encoding, done) { lines.push(...String(chunk).split('\n').filter(Boolean).map((line) => JSON.parse(line))); done() } })
    const config = { ...testConfig(t, { stores: 'memory', env }), NODE_ENV: nodeEnv }
    await buildTestApp(t, { stores: 'memory', loadShedding: false, logger: { level: 'warn', stream } as never }, config)
    return lines.filter((line) => /JWT_ISSUER/.test(line.msg))
  }
  t.equal((await warnings({}, 'production')).length, 1, 'production with JWT_ISSUER=otp-gate warns')
  t.match((await warnings({}, 'production'))[0]?.msg, /JWT_ISSUER is not a URL/)
  t.equal((await warnings({ JWT_ISSUER: 'https://auth.example.com' }, 'production')).length, 0, 'not with an https issuer')
  t.equal((await warnings({}, 'test')).length, 0, 'not outside production')
})
