import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { DisposableRedis } from '../helpers/redis-server.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'

const PROBLEM = 'application/problem+json; charset=utf-8'

t.test('every error is problem+json with a stable code', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })

  const cases = [
    { name: 'unknown route', request: { method: 'GET', url: '/nope' }, status: 404, code: 'not_found' },
    { name: 'wrong method', request: { method: 'DELETE', url: '/v1/auth/otp' }, status: 405, code: 'method_not_allowed' },
    { name: 'bad JSON', request: { method: 'POST', url: '/v1/auth/otp', headers: { 'content-type': 'application/json' }, payload: '{"email":' }, status: 400, code: 'bad_request' },
    { name: 'wrong content type', request: { method: 'POST', url: '/v1/auth/otp', headers: { 'content-type': 'text/plain' }, payload: 'hello' }, status: 415, code: 'unsupported_media_type' },
    { name: 'body too large', request: { method: 'POST', url: '/v1/auth/otp', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'a'.repeat(20_000) }) }, status: 413, code: 'payload_too_large' },
    { name: 'unknown property', request: { method: 'POST', url: '/v1/auth/otp', payload: { email: 'jane@example.org', admin: true } }, status: 400, code: 'validation_failed' },
    { name: 'no bearer token', request: { method: 'GET', url: '/v1/me' }, status: 401, code: 'unauthorized' },
    { name: 'forged bearer token', request: { method: 'GET', url: '/v1/me', headers: { authorization: 'Bearer abc.def.ghi' } }, status: 401, code: 'unauthorized' }
  ] as const

  for (const { name, request, status, code } of cases) {
    const response = await app.inject(request as never)
    t.equal(response.statusCode, status, `${name}: status`)
    t.equal(response.headers['content-type'], PROBLEM, `${name}: content type`)
    const body = response.json()
    t.equal(body.code, code, `${name}: code`)
    t.equal(body.status, status, `${name}: status member`)
    t.match(body, { type: `https://otp-gate.dev/problems/${code}`, title: String, detail: String }, `${name}: members`)
    t.notMatch(response.body, /at .*\.ts:\d+/, `${name}: no stack trace`)
  }
})

t.test('errors Fastify raises before routing are problems too, with the request id', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const cases = [
    { name: 'bad percent-encoding', url: '/v1/me/sessions/%zz', status: 400, code: 'bad_request' },
    { name: 'path parameter over 100 characters', url: `/v1/me/sessions/${'a'.repeat(101)}`, status: 414, code: 'uri_too_long' }
  ]
  for (const { name, url, status, code } of cases) {
    const response = await app.inject({ method: 'DELETE', url, headers: { 'x-request-id': 'trace-framework' } })
    t.equal(response.statusCode, status, `${name}: status`)
    t.equal(response.headers['content-type'], PROBLEM, `${name}: content type`)
    t.match(response.json(), { type: `https://otp-gate.dev/problems/${code}`, status, code, title: String, detail: String }, `${name}: problem`)
    t.equal(response.headers['x-request-id'], 'trace-framework', `${name}: request id`)
    t.equal(response.headers['x-content-type-options'], 'nosniff', `${name}: nosniff`)
    t.equal(response.headers['cache-control'], 'no-store', `${name}: no-store`)
  }
})

t.test('a 400 no rule maps is bad_request, not validation_failed', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  // RFC 10008: a QUERY with content and no Content-Type; Fastify refuses it before any route
  const response = await app.inject({ method: 'QUERY' as never, url: '/v1/auth/otp', payload: 'abc' })
  t.equal(response.statusCode, 400)
  t.equal(response.headers['content-type'], PROBLEM)
  t.equal(response.json().code, 'bad_request')
})

t.test('the dev outbox names its query parameter in validation errors', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  for (const to of ['abc', 'jane@', '+1 555']) {
    const response = await app.inject({ method: 'GET', url: '/v1/dev/outbox', query: { to } })
    t.equal(response.statusCode, 400, to)
    t.match(response.json(), { code: 'validation_failed', errors: [{ field: 'querystring.to', message: String }] }, to)
    t.notMatch(response.body, /body\./, `${to}: no body field named`)
  }
})

t.test('both or neither of email and phone: one clear 400 naming them; other mistakes name their field', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { TOTP_PRIMARY_LOGIN: 'true' } })
  const headers = bearer((await login(app, { email: newEmail('contacts') })).accessToken)
  const email = newEmail('both')
  const routes = [
    { url: '/v1/auth/otp', extra: {} },
    { url: '/v1/auth/totp', extra: { code: '123456' } },
    { url: '/v1/me/contacts', extra: {}, headers }
  ]
  for (const { url, extra, headers } of routes) {
    for (const identifiers of [{ email, phone: '+12015550123' }, {}]) {
      const response = await app.inject({ method: 'POST', url, headers, payload: { ...identifiers, ...extra } })
      const name = `${url} ${JSON.stringify(Object.keys(identifiers))}`
      t.equal(response.statusCode, 400, name)
      t.equal(response.headers['content-type'], PROBLEM, name)
      t.match(response.json(), { code: 'validation_failed', status: 400 }, name)
      t.same(response.json().errors, [{ field: 'body', message: 'must have exactly one of email and phone' }], name)
    }
    const short = await app.inject({ method: 'POST', url, headers, payload: { email: 'x', ...extra } })
    t.same(short.json().errors?.map((error: { field: string }) => error.field), ['body.email'], `${url}: a short email names body.email`)
    const unknown = await app.inject({ method: 'POST', url, headers, payload: { phone: '+12015550123', admin: true, ...extra } })
    t.same(unknown.json().errors?.map((error: { field: string }) => error.field), ['body.admin'], `${url}: an unknown property is named`)
  }
  const noCode = await app.inject({ method: 'POST', url: '/v1/auth/totp', payload: { email } })
  t.same(noCode.json().errors?.map((error: { field: string }) => error.field), ['body.code'], 'a missing code is named')
})

t.test('405 names the allowed methods', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const response = await app.inject({ method: 'GET', url: '/v1/auth/otp/verify' })
  t.equal(response.statusCode, 405)
  t.equal(response.headers.allow, 'POST')
})

t.test('validation errors list the failing fields', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const response = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: 'x', code: '12' } })
  t.equal(response.statusCode, 400)
  const body = response.json()
  t.equal(body.code, 'validation_failed')
  t.ok(Array.isArray(body.errors) && body.errors.length > 0, 'errors listed')
  t.match(body.errors[0], { field: /^body\./, message: String })
})

t.test('a request id comes back on every response', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const response = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'trace-123' } })
  t.equal(response.headers['x-request-id'], 'trace-123')
})

t.test('an unexpected error is a 500 problem without internals', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  app.get('/test-only/boom', async () => { throw new Error('connection string mongodb://user:pw@db leaked') })
  const response = await app.inject({ method: 'GET', url: '/test-only/boom' })
  t.equal(response.statusCode, 500)
  t.equal(response.headers['content-type'], PROBLEM)
  t.equal(response.json().code, 'internal_error')
  t.notMatch(response.body, /mongodb:|leaked|stack/)
})

t.test('a second code too soon is a 429 problem that says when to come back', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const email = newEmail('cooldown')
  const first = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email } })
  t.equal(first.statusCode, 202)
  const second = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email } })
  t.equal(second.statusCode, 429)
  t.equal(second.headers['content-type'], PROBLEM)
  t.match(second.json(), { type: 'https://otp-gate.dev/problems/cooldown', status: 429, code: 'cooldown', title: String, detail: String })
  t.ok(Number(second.headers['retry-after']) > 0, 'Retry-After')
})

t.test('a store that stops answering is a 503 problem, not a hang or a 500', async (t) => {
  const redis = await DisposableRedis.start()
  t.teardown(() => redis.dispose())
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { REDIS_URL: redis.url } })
  await redis.stop()
  const response = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email: newEmail('outage') } })
  t.equal(response.statusCode, 503)
  t.equal(response.headers['content-type'], PROBLEM)
  t.match(response.json(), { type: 'https://otp-gate.dev/problems/service_unavailable', status: 503, code: 'service_unavailable', detail: /store/ })
  t.ok(Number(response.headers['retry-after']) > 0, 'Retry-After')
  t.notMatch(response.body, /redis:|127\.0\.0\.1|stack/, 'no internals')
})
