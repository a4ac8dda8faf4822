import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { adminKeyEnv } from '../helpers/admin.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'
import { REPEAT_LOGIN_ENV } from '../helpers/totp.ts'

const claimsOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>
const refresh = async (app: Awaited<ReturnType<typeof buildTestApp>>, refreshToken: string) =>
  (await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken } })).json()

for (const stores of ['memory', 'real'] as const) {
  t.test(`${stores} stores`, async (t) => {
    t.test('app_metadata is in the access token from the next refresh after an admin PATCH; userMetadata never is', async (t) => {
      const admin = adminKeyEnv()
      const env = { ...REPEAT_LOGIN_ENV, ...admin.env }
      const app = await buildTestApp(t, { stores, outbox: true, loadShedding: false, env })
      const email = newEmail('claims')
      const session = await login(app, { email })
      t.same(claimsOf(session.accessToken).app_metadata, {}, 'an empty object before any is set')
      const patched = await app.inject({
        method: 'PATCH', url: `/v1/admin/users/${session.user.id}`, headers: admin.headers, payload: { appMetadata: { role: 'editor', plan: 'pro' }, userMetadata: { theme: 'dark' } }
      })
      t.equal(patched.statusCode, 200)
      t.same(claimsOf(session.accessToken).app_metadata, {}, 'the token in hand is unchanged')
      const refreshed = await refresh(app, session.refreshToken)
      const claims = claimsOf(refreshed.accessToken)
      t.same(claims.app_metadata, { role: 'editor', plan: 'pro' }, 'the refreshed token carries it')
      t.notOk('user_metadata' in claims || 'userMetadata' in claims)
      t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(refreshed.accessToken) })).statusCode, 200)
      const again = await login(app, { email })
      t.same(claimsOf(again.accessToken).app_metadata, { role: 'editor', plan: 'pro' }, 'and a new sign-in')
    })

    t.test('PATCH /v1/me writes userMetadata within the limits, never appMetadata', async (t) => {
      const app = await buildTestApp(t, { stores, outbox: true, loadShedding: false })
      const session = await login(app, { email: newEmail('user-meta') })
      const headers = bearer(session.accessToken)
      const ok = await app.inject({ method: 'PATCH', url: '/v1/me', headers, payload: { userMetadata: { theme: 'dark', sizes: [1, 2] } } })
      t.equal(ok.statusCode, 200)
      t.match(ok.json(), { userMetadata: { theme: 'dark', sizes: [1, 2] }, appMetadata: {} })
      for (const bad of [[], 'x', { $x: 1 }, { 'a.b': 1 }, { big: 'y'.repeat(2100) }]) {
        const answer = await app.inject({ method: 'PATCH', url: '/v1/me', headers, payload: { name: 'Changed', userMetadata: bad } })
        t.equal(answer.statusCode, 400, JSON.stringify(bad).slice(0, 30))
      }
      const me = (await app.inject({ method: 'GET', url: '/v1/me', headers })).json()
      t.match(me, { name: null, userMetadata: { theme: 'dark' } }, 'a refused request wrote nothing')
      const forbidden = await app.inject({ method: 'PATCH', url: '/v1/me', headers, payload: { appMetadata: { role: 'admin' } } })
      t.equal(forbidden.statusCode, 400)
      t.same((await app.inject({ method: 'GET', url: '/v1/me', headers })).json().appMetadata, {})
    })
  })
}
