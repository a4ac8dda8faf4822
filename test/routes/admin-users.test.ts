import t from 'tap'
import { buildTestApp, testConfig } from '../helpers/build-app.ts'
import { adminKeyEnv } from '../helpers/admin.ts'
import { bearer, codeFromOutbox, login, newEmail, newPhone, outboxOf, startLogin } from '../helpers/login.ts'
import { enrolledUser, manualClock, REPEAT_LOGIN_ENV } from '../helpers/totp.ts'
import { hashAdminKey } from '../../src/admin/admin-keys.ts'
import { ConfigError } from '../../src/config.ts'

const env = REPEAT_LOGIN_ENV

t.test('ADMIN_API_KEYS holds hashes only; a malformed entry stops start-up with a line naming it', async (t) => {
  const admin = adminKeyEnv()
  const config = testConfig(t, { stores: 'memory', env: admin.env })
  t.same(config.ADMIN_API_KEYS, [`ops=sha256:${hashAdminKey(admin.key).toString('hex')}`])
  t.notMatch(JSON.stringify(config), admin.key, 'the key itself is nowhere in the config')
  const malformed: Array<[string, string]> = [
    ['ops=' + admin.key, 'the entry "ops"'], ['ops=sha256:ABC', 'the entry "ops"'], [`ops=sha256:${'A'.repeat(64)}`, 'the entry "ops"'],
    [admin.key, 'entry 2'], [`=sha256:${'a'.repeat(64)}`, 'entry 2']
  ]
  for (const [entry, named] of malformed) {
    const thrown = (() => {
      try { testConfig(t, { stores: 'memory', env: { ADMIN_API_KEYS: `good=sha256:${'a'.repeat(64)},${entry}` } }) } catch (error) { return error }
    })()
    t.ok(thrown instanceof ConfigError, entry)
    t.match((thrown as Error).message, `ADMIN_API_KEYS: ${named} is not`, 'the line names the entry')
    t.notMatch((thrown as Error).message, admin.key, 'and never shows a key')
  }
})

for (const stores of ['memory', 'real'] as const) {
  t.test(`${stores} stores`, async (t) => {
    t.test('no keys configured: the admin routes answer 404, yet the OpenAPI document lists them under `admin`', async (t) => {
      const app = await buildTestApp(t, { stores, loadShedding: false })
      const answer = await app.inject({ method: 'GET', url: '/v1/admin/users', headers: adminKeyEnv().headers })
      t.equal(answer.statusCode, 404)
      t.equal(answer.json().code, 'not_found')
      const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
      t.same(document.paths['/v1/admin/users'].get.tags, ['admin'])
      t.same(document.paths['/v1/admin/users'].get.security, [{ adminApiKey: [] }])
      t.ok(document.components.securitySchemes.adminApiKey)
      t.ok(document.paths['/v1/admin/identifiers/unblock'].post)
    })

    t.test('a user token on an admin route and an admin key on a user route: 401 both', async (t) => {
      const admin = adminKeyEnv()
      const app = await buildTestApp(t, { stores, outbox: true, loadShedding: false, env: { ...env, ...admin.env } })
      const session = await login(app, { email: newEmail('admin-401') })
      for (const headers of [bearer(session.accessToken), {}, bearer('x'.repeat(40)), bearer(admin.key + 'x')]) {
        const answer = await app.inject({ method: 'GET', url: '/v1/admin/users', headers })
        t.equal(answer.statusCode, 401)
        t.equal(answer.json().code, 'unauthorized')
      }
      const me = await app.inject({ method: 'GET', url: '/v1/me', headers: admin.headers })
      t.equal(me.statusCode, 401, 'an admin key is no access token')
      t.equal((await app.inject({ method: 'GET', url: '/v1/admin/users', headers: admin.headers })).statusCode, 200)
    })

    t.test('create, get, list newest first with filters and pages', async (t) => {
      const admin = adminKeyEnv()
      const app = await buildTestApp(t, { stores, outbox: true, loadShedding: false, env: { ...env, ...admin.env } })
      const headers = admin.headers
      const email = newEmail('Admin-Create')
      const created = await app.inject({ method: 'POST', url: '/v1/admin/users', headers, payload: { email: email.toUpperCase(), appMetadata: { role: 'editor' } } })
      t.equal(created.statusCode, 201, created.body)
      t.match(created.json(), { email: email.toLowerCase(), emailVerifiedAt: null, status: 'active', appMetadata: { role: 'editor' }, userMetadata: {}, mfaEnrolled: false })
      const again = await app.inject({ method: 'POST', url: '/v1/admin/users', headers, payload: { email } })
      t.equal(again.statusCode, 409)
      const phone = newPhone()
      const byPhone = await app.inject({ method: 'POST', url: '/v1/admin/users', headers, payload: { phone } })
      t.equal(byPhone.statusCode, 201)
      const got = await app.inject({ method: 'GET', url: `/v1/admin/users/${created.json().id}`, headers })
      t.same(got.json(), created.json())
      t.equal((await app.inject({ method: 'GET', url: '/v1/admin/users/0123456789abcdef01234567', headers })).statusCode, 404)
      t.equal((await app.inject({ method: 'GET', url: '/v1/admin/users/nope', headers })).statusCode, 404)

      const third = await app.inject({ method: 'POST', url: '/v1/admin/users', headers, payload: { email: newEmail('admin-third') } })
      const first = await app.inject({ method: 'GET', url: '/v1/admin/users', headers, query: { limit: '2' } })
      t.same(first.json().users.map((u: { id: string }) => u.id), [third.json().id, byPhone.json().id], 'newest first')
      t.equal(first.json().nextCursor, byPhone.json().id)
      const next = await app.inject({ method: 'GET', url: '/v1/admin/users', headers, query: { limit: '2', cursor: first.json().nextCursor } })
      t.same(next.json(), { users: [created.json()], nextCursor: null })
      const filtered = await app.inject({ method: 'GET', url: '/v1/admin/users', headers, query: { email: email.toUpperCase() } })
      t.same(filtered.json().users.map((u: { id: string }) => u.id), [created.json().id], 'email normalised as at sign-in')
      const national = phone.replace('+1', '')
      const byNational = await app.inject({ method: 'GET', url: '/v1/admin/users', headers, query: { phone: national } })
      t.same(byNational.json().users.map((u: { id: string }) => u.id), [byPhone.json().id], 'phone normalised as at sign-in')
      t.equal((await app.inject({ method: 'GET', url: '/v1/admin/users', headers, query: { limit: '101' } })).statusCode, 400)
      const disabled = await app.inject({ method: 'GET', url: '/v1/admin/users', headers, query: { status: 'disabled' } })
      t.same(disabled.json().users, [])
    })

    t.test('disabling ends a live access token at its next request, and its refresh; the user sees who did it', async (t) => {
      const admin = adminKeyEnv()
      const app = await buildTestApp(t, { stores, outbox: true, loadShedding: false, env: { ...env, ...admin.env } })
      const session = await login(app, { email: newEmail('admin-disable') })
      const headers = admin.headers
      const patched = await app.inject({ method: 'PATCH', url: `/v1/admin/users/${session.user.id}`, headers, payload: { status: 'disabled' } })
      t.equal(patched.statusCode, 200)
      t.equal(patched.json().status, 'disabled')
      t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) })).statusCode, 401)
      t.equal((await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })).statusCode, 401)
      const listed = await app.inject({ method: 'GET', url: '/v1/admin/users', headers, query: { status: 'disabled' } })
      t.same(listed.json().users.map((u: { id: string }) => u.id), [session.user.id])

      await app.inject({ method: 'PATCH', url: `/v1/admin/users/${session.user.id}`, headers, payload: { status: 'active' } })
      const back = await login(app, { email: session.user.email as string })
      const activity = await app.inject({ method: 'GET', url: '/v1/me/activity', headers: bearer(back.accessToken) })
      t.match(activity.json().events.filter((event: { actor: string | null }) => event.actor !== null), [
        { type: 'account_updated', actor: 'admin:ops', reason: 'status' },
        { type: 'account_updated', actor: 'admin:ops', reason: 'status' }
      ])
    })

    t.test('metadata: an object of at most 2 KB, no $ or dotted keys; a refusal writes nothing', async (t) => {
      const admin = adminKeyEnv()
      const app = await buildTestApp(t, { stores, outbox: true, loadShedding: false, env: { ...env, ...admin.env } })
      const headers = admin.headers
      const user = (await app.inject({ method: 'POST', url: '/v1/admin/users', headers, payload: { email: newEmail('admin-meta') } })).json()
      const url = `/v1/admin/users/${user.id}`
      for (const bad of [[1], 'x', null, { $set: 1 }, { 'a.b': 1 }, { deep: [{ $where: 1 }] }, { big: 'x'.repeat(2100) }]) {
        const answer = await app.inject({ method: 'PATCH', url, headers, payload: { status: 'disabled', userMetadata: { ok: true }, appMetadata: bad } })
        t.equal(answer.statusCode, 400, JSON.stringify(bad).slice(0, 40))
        t.equal(answer.json().code, 'validation_failed')
      }
      t.match((await app.inject({ method: 'GET', url, headers })).json(), { status: 'active', appMetadata: {}, userMetadata: {} }, 'nothing half-written')
      const good = await app.inject({ method: 'PATCH', url, headers, payload: { appMetadata: { role: 'admin', plans: ['pro'] }, userMetadata: { theme: 'dark' } } })
      t.match(good.json(), { appMetadata: { role: 'admin', plans: ['pro'] }, userMetadata: { theme: 'dark' } })
    })

    t.test('sessions: listed, then all ended', async (t) => {
      const admin = adminKeyEnv()
      const app = await buildTestApp(t, { stores, outbox: true, loadShedding: false, env: { ...env, ...admin.env } })
      const email = newEmail('admin-sessions')
      const one = await login(app, { email })
      await login(app, { email })
      const url = `/v1/admin/users/${one.user.id}/sessions`
      const listed = await app.inject({ method: 'GET', url, headers: admin.headers })
      t.equal(listed.json().sessions.length, 2)
      t.equal((await app.inject({ method: 'DELETE', url, headers: admin.headers })).statusCode, 204)
      t.same((await app.inject({ method: 'GET', url, headers: admin.headers })).json().sessions, [])
      t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(one.accessToken) })).statusCode, 401)
    })

    t.test('removing a lost authenticator: credential and sessions gone, the next sign-in asks no second factor', async (t) => {
      const admin = adminKeyEnv()
      const clock = manualClock()
      const options = { stores, outbox: true, loadShedding: false, now: clock.now, env: { ...env, ...admin.env } }
      const app = await buildTestApp(t, options)
      const { email, session } = await enrolledUser(app, clock)
      const url = `/v1/admin/users/${session.user.id}/authenticator`
      t.equal((await app.inject({ method: 'DELETE', url, headers: admin.headers })).statusCode, 204)
      t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) })).statusCode, 401)
      const notices = (await outboxOf(app, email)).json().messages as Array<{ code: string, text: string }>
      t.ok(notices.some((message) => message.code === '' && /authenticator app and the recovery codes/.test(message.text)), 'the user is told')
      const again = await login(app, { email })
      t.ok(again.accessToken, 'signed in with the email code alone')
      t.equal((await app.inject({ method: 'DELETE', url, headers: admin.headers })).statusCode, 404, 'none left')
    })

    t.test('unblock lets a suspended identifier sign in with a right code', async (t) => {
      const admin = adminKeyEnv()
      const app = await buildTestApp(t, {
        stores,
        outbox: true,
        loadShedding: false,
        limiter: false,
        env: { ...env, ...admin.env, OTP_THROTTLE_AFTER_FAILURES: '100', SUSPEND_AFTER_FAILURES: '10', OTP_SEND_QUOTA: '100', OTP_DAILY_QUOTA: '100' }
      })
      const email = newEmail('admin-unblock')
      await login(app, { email })
      const started = async () => {
        const start = await startLogin(app, { email })
        return { challengeId: start.json().challengeId as string, code: await codeFromOutbox(app, email) }
      }
      for (let challenge = 0; challenge < 2; challenge++) {
        const wrong = await started()
        for (let attempt = 0; attempt < 5; attempt++) {
          await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: wrong.challengeId, code: wrong.code === '000000' ? '111111' : '000000' } })
        }
      }
      const refused = await started()
      const suspended = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: refused })
      t.equal(suspended.json().code, 'login_suspended')
      const unblocked = await app.inject({ method: 'POST', url: '/v1/admin/identifiers/unblock', headers: admin.headers, payload: { email: email.toUpperCase() } })
      t.equal(unblocked.statusCode, 204)
      const right = await started()
      t.equal((await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: right })).statusCode, 200)
    })
  })
}
