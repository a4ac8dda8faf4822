import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'

t.test('a disabled user gets nothing: refresh, every authenticated route and the session list answer 401', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } })
  const email = newEmail('disabled')
  const first = await login(app, { email })
  const second = await login(app, { email })
  t.equal((await app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(first.accessToken) })).json().sessions.length, 2)

  await app.accounts.disable(first.user.id)

  for (const session of [first, second]) {
    const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })
    t.equal(refreshed.statusCode, 401, 'refresh')
    for (const url of ['/v1/me', '/v1/me/sessions', '/v1/me/totp']) {
      const answer = await app.inject({ method: 'GET', url, headers: bearer(session.accessToken) })
      t.equal(answer.statusCode, 401, `GET ${url}`)
      t.equal(answer.json().code, 'unauthorized')
    }
  }
  t.same(await app.sessions.listActive(first.user.id, new Date()), [], 'every session of the user ended')
  t.equal((await app.users.findById(first.user.id))?.status, 'disabled')
  const again = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email } })
  t.equal(again.statusCode, 202, 'a code request answers like anyone\'s (a decoy), so the state is not told')
})

t.test('disabling an unknown user changes nothing and says so', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  t.equal(await app.accounts.disable('0123456789abcdef01234567'), false)
})
