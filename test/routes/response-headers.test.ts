import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, codeFromOutbox, newEmail, outboxOf, startLogin } from '../helpers/login.ts'

const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })

t.test('every /v1 answer, tokens, codes, users and errors alike, is never cached', async (t) => {
  const email = newEmail('cache')
  const answers: Array<[string, LightMyRequestResponse]> = []
  const started = await startLogin(app, { email })
  answers.push(['start', started])
  answers.push(['outbox', await outboxOf(app, email)])
  const code = await codeFromOutbox(app, email)
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })
  answers.push(['verify', verified])
  const { accessToken, refreshToken } = verified.json()
  answers.push(['me', await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })])
  answers.push(['refresh', await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken } })])
  answers.push(['refused', await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email: 'nope' } })])
  answers.push(['unknown', await app.inject({ method: 'GET', url: '/v1/nope' })])
  answers.push(['no token', await app.inject({ method: 'GET', url: '/v1/me' })])
  for (const [name, response] of answers) t.equal(response.headers['cache-control'], 'no-store', `${name} (${response.statusCode})`)
})

t.test('every answer, docs and errors included, carries X-Content-Type-Options: nosniff', async (t) => {
  const requests = [
    { method: 'GET', url: '/health/live' },
    { method: 'GET', url: '/openapi.json' },
    { method: 'GET', url: '/docs' },
    { method: 'GET', url: '/docs/static/swagger-ui.css' },
    { method: 'GET', url: '/.well-known/jwks.json' },
    { method: 'GET', url: '/nope' },
    { method: 'DELETE', url: '/v1/auth/otp' },
    { method: 'POST', url: '/v1/auth/otp', headers: { 'content-type': 'text/plain' }, payload: 'hi' },
    { method: 'POST', url: '/v1/auth/otp', payload: { email: 'nope' } }
  ] as const
  for (const request of requests) {
    const response = await app.inject(request)
    t.equal(response.headers['x-content-type-options'], 'nosniff', `${request.method} ${request.url} (${response.statusCode})`)
  }
})

t.test('the public keys stay cacheable', async (t) => {
  const response = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(response.headers['cache-control'], 'public, max-age=300')
})
