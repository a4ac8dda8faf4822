import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'

// Security round 3, point 12: an operation whose object body is optional may be called without one, but a body that
// is present, JSON `null` included, must match its schema.
t.test('an optional body may be left out; a JSON null is a body, and not an object: 400 validation_failed', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const { accessToken } = await login(app, { email: newEmail('optional-body') })
  const headers = bearer(accessToken)
  const json = { ...headers, 'content-type': 'application/json' }

  for (const url of ['/v1/me/reauth', '/v1/auth/logout']) {
    const nullBody = await app.inject({ method: 'POST', url, headers: json, payload: 'null' })
    t.equal(nullBody.statusCode, 400, `${url} with a null body`)
    t.equal(nullBody.json().code, 'validation_failed')
    const arrayBody = await app.inject({ method: 'POST', url, headers: json, payload: '[]' })
    t.equal(arrayBody.statusCode, 400, `${url} with an array body`)
  }
  t.equal((await app.inject({ method: 'POST', url: '/v1/me/reauth', headers })).statusCode, 202, 'no body at all: the defaults')
  t.equal((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers })).statusCode, 204, 'no body at all: this session ends')
})
