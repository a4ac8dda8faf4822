import t from 'tap'
import Fastify, { type LightMyRequestResponse } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { codeFromOutbox, newEmail, startLogin } from '../helpers/login.ts'
import { REPEAT_LOGIN_ENV, enrolledUser, firstFactor, manualClock } from '../helpers/totp.ts'
import { LoginOrMfaChallengeSchema } from '../../plugins/schemas/login.ts'

// A sign-in's answer is serialised with its own branch of LoginOrMfaChallenge (plugins/schemas/responses.ts
// answerAs), not by the union's serializer: the bytes, the content type and the members must be what the union
// gives, for either branch and for a browser whose refresh token goes into a cookie.

/** The serializer the route used before: the union's own, compiled as Fastify compiles a route's response. */
async function unionSerializer (): Promise<(data: unknown) => string> {
  const app = Fastify()
  let serialize: ((data: unknown) => string) | undefined
  app.post('/', { schema: { response: { 200: LoginOrMfaChallengeSchema } } }, async (_request, reply) => {
    const schema = LoginOrMfaChallengeSchema as unknown as Record<string, unknown>
    serialize = reply.compileSerializationSchema(schema) as typeof serialize
    return { mfaRequired: true, mfaToken: 'x', expiresIn: 1, methods: [] }
  })
  await app.inject({ method: 'POST', url: '/' })
  await app.close()
  return serialize!
}

const APP = 'http://localhost:5173'

t.test('a sign-in answers the bytes and content type of the union serializer, either branch', async (t) => {
  const union = await unionSerializer()
  const clock = manualClock()
  const app = await buildTestApp(t, {
    loadShedding: false, outbox: true, now: clock.now, env: { ...REPEAT_LOGIN_ENV, SESSION_COOKIE: 'on', CORS_ORIGINS: APP }
  })
  const same = (response: LightMyRequestResponse, label: string) => {
    t.equal(response.statusCode, 200, `${label}: 200`)
    t.equal(response.headers['content-type'], 'application/json; charset=utf-8', `${label}: JSON`)
    t.equal(response.body, union(response.json()), `${label}: the union's bytes`)
  }

  const email = newEmail('answer')
  const login = await firstFactor(app, email)
  same(login, 'a login')
  t.match(login.json(), { tokenType: 'Bearer', refreshToken: String, deviceToken: String, user: { email } })

  const browserEmail = newEmail('browser')
  const started = await startLogin(app, { email: browserEmail })
  const code = await codeFromOutbox(app, browserEmail)
  const browser = await app.inject({
    method: 'POST', url: '/v1/auth/otp/verify', headers: { origin: APP }, payload: { challengeId: started.json().challengeId, code }
  })
  same(browser, 'a browser\'s login')
  t.notOk('refreshToken' in browser.json(), 'a browser\'s refresh token is in its cookie, not the body')

  await enrolledUser(app, clock, newEmail('mfa')).then(async ({ email: enrolled }) => {
    const challenge = await firstFactor(app, enrolled)
    same(challenge, 'an MFA challenge')
    t.same(Object.keys(challenge.json()).sort(), ['expiresIn', 'methods', 'mfaRequired', 'mfaToken'])
  })
})
