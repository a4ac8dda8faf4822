import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'

const PROBLEM = 'application/problem+json; charset=utf-8'

t.test('every error is problem+json with a stable code', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory' })

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

t.test('405 names the allowed methods', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory' })
  const response = await app.inject({ method: 'GET', url: '/v1/auth/otp/verify' })
  t.equal(response.statusCode, 405)
  t.equal(response.headers.allow, 'POST')
})

t.test('validation errors list the failing fields', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory' })
  const response = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: 'x', code: '12' } })
  t.equal(response.statusCode, 400)
  const body = response.json()
  t.equal(body.code, 'validation_failed')
  t.ok(Array.isArray(body.errors) && body.errors.length > 0, 'errors listed')
  t.match(body.errors[0], { field: /^body\./, message: String })
})

t.test('a request id comes back on every response', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory' })
  const response = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'trace-123' } })
  t.equal(response.headers['x-request-id'], 'trace-123')
})

t.test('an unexpected error is a 500 problem without internals', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory' })
  app.get('/test-only/boom', async () => { throw new Error('connection string mongodb://user:pw@db leaked') })
  const response = await app.inject({ method: 'GET', url: '/test-only/boom' })
  t.equal(response.statusCode, 500)
  t.equal(response.headers['content-type'], PROBLEM)
  t.equal(response.json().code, 'internal_error')
  t.notMatch(response.body, /mongodb:|leaked|stack/)
})
