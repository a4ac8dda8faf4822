import t from 'tap'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { documentOf } from '../helpers/openapi.ts'
import { loadConfig } from '../../src/config.ts'

const APP = 'http://localhost:5173'
const STRANGER = 'https://evil.example'
const EXPOSED = ['retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'x-request-id']

const headerList = (response: LightMyRequestResponse, name: string) =>
  String(response.headers[name] ?? '').toLowerCase().split(',').map((item) => item.trim()).filter(Boolean)

const preflight = (url: string, method: string, origin = APP) => ({
  method: 'OPTIONS' as const,
  url: url.replace(/\{[^}]+\}/g, '665f1c2e9b1e8a0012ab34cd'),
  headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type,authorization' }
})

const corsHeaders = (response: LightMyRequestResponse) => Object.keys(response.headers).filter((name) => name.startsWith('access-control-'))

t.test('a preflight from an allowed origin is answered 204 on every route of the API, with what the browser needs', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { CORS_ORIGINS: `https://app.example.com,${APP}`, CORS_MAX_AGE_SECONDS: '120' } })
  const document = await documentOf(app)
  const operations = Object.entries(document.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => [path, method.toUpperCase()] as const))
  t.ok(operations.length > 20, `${operations.length} operations`)
  for (const [path, method] of operations) {
    const response = await app.inject(preflight(path, method))
    const name = `${method} ${path}`
    t.equal(response.statusCode, 204, `${name}: 204`)
    t.equal(response.headers['access-control-allow-origin'], APP, `${name}: the origin`)
    t.ok(headerList(response, 'access-control-allow-methods').includes(method.toLowerCase()), `${name}: the method`)
    const allowedHeaders = headerList(response, 'access-control-allow-headers')
    t.ok(allowedHeaders.includes('content-type') && allowedHeaders.includes('authorization'), `${name}: the request headers`)
    t.equal(response.headers['access-control-max-age'], '120', `${name}: max age`)
    t.equal(response.headers['access-control-allow-credentials'], undefined, `${name}: no credentials without cookie sessions`)
    t.ok(headerList(response, 'vary').includes('origin'), `${name}: Vary: Origin`)
  }
  t.notOk(Object.values(document.paths).some((item) => 'options' in item), 'the document lists no OPTIONS operation')
  const defaults = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { CORS_ORIGINS: APP } })
  t.equal((await defaults.inject(preflight('/v1/auth/otp', 'POST'))).headers['access-control-max-age'], '600', 'CORS_MAX_AGE_SECONDS defaults to 600')
})

t.test('answers to an allowed origin: its name, the headers an app reads, Vary: Origin; errors alike', async (t) => {
  const app = await buildTestApp(t, {
    stores: 'memory',
    loadShedding: false,
    env: { CORS_ORIGINS: APP, RATE_LIMIT_ALLOWLIST: '', RATE_LIMIT_START_PER_MINUTE: '1' }
  })
  app.get('/test/boom', async () => { throw new Error('boom') })
  const origin = { origin: APP }
  const cases: Array<[string, InjectOptions, number]> = [
    ['keys', { method: 'GET', url: '/.well-known/jwks.json', headers: origin }, 200],
    ['a code', { method: 'POST', url: '/v1/auth/otp', headers: origin, payload: { email: 'jane-cors@example.org' } }, 202],
    ['429', { method: 'POST', url: '/v1/auth/otp', headers: origin, payload: { email: 'jane-cors@example.org' } }, 429],
    ['400', { method: 'POST', url: '/v1/auth/otp/verify', headers: origin, payload: {} }, 400],
    ['401', { method: 'GET', url: '/v1/me', headers: origin }, 401],
    ['404', { method: 'GET', url: '/v1/nope', headers: origin }, 404],
    ['405', { method: 'DELETE', url: '/v1/auth/otp', headers: origin }, 405],
    ['415', { method: 'POST', url: '/v1/auth/otp/resend', headers: { ...origin, 'content-type': 'text/plain' }, payload: 'hi' }, 415],
    ['500', { method: 'GET', url: '/test/boom', headers: origin }, 500],
    ['400 before routing', { method: 'DELETE', url: '/v1/me/sessions/%zz', headers: origin }, 400]
  ]
  for (const [name, request, status] of cases) {
    const response = await app.inject(request)
    t.equal(response.statusCode, status, `${name}: status`)
    t.equal(response.headers['access-control-allow-origin'], APP, `${name}: readable by the app`)
    t.same(EXPOSED.filter((header) => headerList(response, 'access-control-expose-headers').includes(header)), EXPOSED, `${name}: exposed headers`)
    t.ok(headerList(response, 'vary').includes('origin'), `${name}: Vary: Origin`)
    if (status >= 400) t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', `${name}: a problem`)
  }
})

t.test('a disallowed origin, or none configured: no Access-Control-Allow-* header, and the app works as before', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { CORS_ORIGINS: APP } })
  for (const origin of [STRANGER, 'null', 'http://localhost:5174', 'https://localhost:5173']) {
    const refused = await app.inject(preflight('/v1/auth/otp', 'POST', origin))
    t.same(corsHeaders(refused), [], `${origin}: preflight without CORS headers`)
    t.not(refused.statusCode, 204, `${origin}: preflight not accepted`)
    const simple = await app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin } })
    t.same(corsHeaders(simple), [], `${origin}: answer without CORS headers`)
  }
  const none = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  for (const origin of [APP, STRANGER]) {
    t.same(corsHeaders(await none.inject(preflight('/v1/auth/otp', 'POST', origin))), [], `unset: nothing for ${origin}`)
  }
  t.equal((await none.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email: 'jane-none@example.org' } })).statusCode, 202, 'a client without Origin as today')
  t.equal((await none.inject({ method: 'OPTIONS', url: '/v1/nope' })).statusCode, 404, 'an unknown path is still a 404')
})

t.test('a wildcard entry stands for one label; * lets any origin read, without cookies', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { CORS_ORIGINS: 'https://*.example.com' } })
  const allowed = async (origin: string) => (await app.inject(preflight('/v1/auth/otp', 'POST', origin))).headers['access-control-allow-origin'] === origin
  t.ok(await allowed('https://app.example.com'), 'one label')
  t.notOk(await allowed('https://a.b.example.com'), 'not two')
  t.notOk(await allowed('https://example.com'), 'not the domain itself')
  t.notOk(await allowed('http://app.example.com'), 'not another scheme')
  t.notOk(await allowed('https://app.example.com.evil.example'), 'not a suffix trick')
  const any = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { CORS_ORIGINS: '*', SESSION_COOKIE: 'on' } })
  const answer = await any.inject(preflight('/v1/auth/otp', 'POST', STRANGER))
  t.equal(answer.statusCode, 204)
  t.ok(['*', STRANGER].includes(String(answer.headers['access-control-allow-origin'])), 'any origin reads')
  t.equal(answer.headers['access-control-allow-credentials'], undefined, 'but sends no cookies')
  const cookies = await buildTestApp(t, { stores: 'memory', env: { CORS_ORIGINS: APP, SESSION_COOKIE: 'on' } })
  for (const request of [preflight('/v1/auth/token/refresh', 'POST'), { method: 'GET' as const, url: '/v1/me', headers: { origin: APP } }]) {
    const response = await cookies.inject(request)
    t.equal(response.headers['access-control-allow-credentials'], 'true', `${request.method} ${request.url}: a listed origin may send the cookie`)
  }
  t.equal((await cookies.inject(preflight('/v1/auth/token/refresh', 'POST', STRANGER))).headers['access-control-allow-credentials'], undefined, 'another may not')
})

t.test('CORS_ORIGINS entries are checked at start; * with cookie sessions is refused in production', async (t) => {
  for (const entry of ['https://*.com', 'https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'https://a.*.example.com', 'ftp://files.example.com', 'HTTPS://APP.EXAMPLE.COM']) {
    t.throws(() => loadConfig({ CORS_ORIGINS: entry }), { message: /^Invalid configuration: CORS_ORIGINS: / }, entry)
  }
  t.same(loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173,https://*.example.com' }).CORS_ORIGINS,
    ['https://app.example.com', 'http://localhost:5173', 'https://*.example.com'])
  const production = {
    NODE_ENV: 'production',
    REDIS_URL: 'redis://127.0.0.1:6379',
    MONGODB_URL: 'mongodb://127.0.0.1:27017/otp',
    JWT_KEYS: '[]',
    OTP_PEPPER: 'p'.repeat(32),
    SENDGRID_API_KEY: 'SG.x',
    EMAIL_FROM: 'codes@example.org',
    VONAGE_API_KEY: 'k',
    VONAGE_API_SECRET: 's',
    SMS_FROM: 'otp',
    TOTP_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32).toString('base64')}`,
    SMS_ALLOWED_COUNTRIES: 'US'
  }
  t.throws(() => loadConfig({ ...production, CORS_ORIGINS: '*', SESSION_COOKIE: 'on' }), { message: /CORS_ORIGINS=\* is refused in production with SESSION_COOKIE=on/ })
  t.equal(loadConfig({ ...production, CORS_ORIGINS: '*' }).CORS_ORIGINS[0], '*', '* without cookies starts')
  t.equal(loadConfig({ ...production, CORS_ORIGINS: APP, SESSION_COOKIE: 'on' }).SESSION_COOKIE, 'on', 'named origins with cookies start')
})
