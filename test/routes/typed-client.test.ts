import t from 'tap'
import createClient from 'openapi-fetch'
import type { paths } from '../../client/src/openapi.ts'
import { buildTestApp } from '../helpers/build-app.ts'
import { deliveriesSettled, newEmail } from '../helpers/login.ts'

/**
 * The whole login flow through a client typed from openapi.yaml, against a listening app: the document is
 * exact enough to program against, and a change that breaks clients breaks this test's types.
 */
t.test('the full login flow through the typed client', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const client = createClient<paths>({ baseUrl: address })
  const email = newEmail('typed')

  const started = await client.POST('/v1/auth/otp', { body: { email, locale: 'en' } })
  t.equal(started.response.status, 202)
  if (started.data === undefined) throw new Error(`start failed: ${JSON.stringify(started.error)}`)
  const challengeId: string = started.data.challengeId
  const channel: 'email' | 'sms' = started.data.channel
  t.equal(channel, 'email')
  t.match(started.data.destination, /\*/, 'the destination comes back masked')

  // the code is queued, and sent after the answer: a start never waits for a provider, nor fails with one
  type StartStatuses = keyof paths['/v1/auth/otp']['post']['responses']
  type ResendStatuses = keyof paths['/v1/auth/otp/resend']['post']['responses']
  const noDeliveryFailure: [
    502 extends StartStatuses ? never : true, 502 extends ResendStatuses ? never : true
  ] = [true, true]
  t.same(noDeliveryFailure, [true, true], 'no 502 delivery_failed in the start and resend types')
  await deliveriesSettled(app)
  const outbox = await client.GET('/v1/dev/outbox', { params: { query: { to: email } } })
  const code = outbox.data?.messages.find((message) => message.code !== '')?.code
  if (code === undefined) throw new Error('no code in the dev outbox')

  const verified = await client.POST('/v1/auth/otp/verify', { body: { challengeId, code } })
  t.equal(verified.response.status, 200)
  if (verified.data === undefined || !('accessToken' in verified.data)) throw new Error(`verify did not sign in: ${JSON.stringify(verified.error ?? verified.data)}`)
  const { accessToken, refreshToken, user } = verified.data
  t.equal(verified.data.tokenType, 'Bearer')
  t.equal(user.email, email)
  t.ok(user.emailVerifiedAt, 'the email is verified by the login')

  const me = await client.GET('/v1/me', { headers: { authorization: `Bearer ${accessToken}` } })
  t.equal(me.response.status, 200)
  const status: 'active' | 'disabled' | undefined = me.data?.status
  t.equal(status, 'active')
  t.equal(me.data?.id, user.id)

  const refreshed = await client.POST('/v1/auth/token/refresh', { body: { refreshToken } })
  t.equal(refreshed.response.status, 200)
  if (refreshed.data === undefined) throw new Error(`refresh failed: ${JSON.stringify(refreshed.error)}`)
  t.not(refreshed.data.refreshToken, refreshToken, 'the refresh token rotates')
  const expiresIn: number = refreshed.data.expiresIn
  t.ok(expiresIn > 0)

  const authorization = `Bearer ${refreshed.data.accessToken}`
  const loggedOut = await client.POST('/v1/auth/logout', { headers: { authorization }, body: {} })
  t.equal(loggedOut.response.status, 204)

  const after = await client.GET('/v1/me', { headers: { authorization } })
  t.equal(after.response.status, 401, 'the session is over')
  t.equal(after.response.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  t.equal(after.error?.code, 'unauthorized', 'errors are typed Problems with a stable code')
})

t.test('errors come back typed: a validation problem lists its fields', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const client = createClient<paths>({ baseUrl: await app.listen({ port: 0, host: '127.0.0.1' }) })

  // the generated body type has no `admin`, but TypeScript lets a variable with extra properties through
  const body = { email: newEmail(), admin: true }
  const refused = await client.POST('/v1/auth/otp', { body })
  t.equal(refused.response.status, 400)
  t.equal(refused.error?.code, 'validation_failed')
  t.match(refused.error?.errors, [{ field: 'body.admin' }])
})
