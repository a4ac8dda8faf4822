import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'
import { enrolledUser, manualClock, REPEAT_LOGIN_ENV } from '../helpers/totp.ts'
import { addPasskey, newAuthenticator, PASSKEY_ENV } from '../helpers/passkeys.ts'

for (const stores of ['memory', 'real'] as const) {
  t.test(`${stores} stores: GET /v1/me/export is the user's data as a JSON attachment, with no secret`, async (t) => {
    const clock = manualClock()
    const env = { ...REPEAT_LOGIN_ENV, ...PASSKEY_ENV }
    const options = { stores, outbox: true, loadShedding: false, now: clock.now, env }
    const app = await buildTestApp(t, options)
    const { email, headers, otpauthUri, recoveryCodes, session } = await enrolledUser(app, clock, newEmail('export'))
    await app.inject({ method: 'PATCH', url: '/v1/me', headers, payload: { userMetadata: { theme: 'dark' } } })
    const authenticator = newAuthenticator()
    t.equal((await addPasskey(app, session.accessToken, authenticator, 'Laptop')).statusCode, 201)
    const answer = await app.inject({ method: 'GET', url: '/v1/me/export', headers })
    t.equal(answer.statusCode, 200)
    t.match(answer.headers['content-disposition'], /^attachment; filename="account-\d{4}-\d{2}-\d{2}\.json"$/)
    const data = answer.json()
    t.match(data, {
      user: { id: session.user.id, email, userMetadata: { theme: 'dark' }, appMetadata: {} },
      identifiers: [{ kind: 'email', value: email, verifiedAt: String }],
      sessions: [{ current: true }],
      authenticator: { status: 'active', confirmedAt: String },
      passkeys: [{ name: 'Laptop', createdAt: String, lastUsedAt: null }]
    })
    t.notOk(answer.body.includes(authenticator.credentials[0]!.id.toString('base64url')), 'no credential id')
    t.ok(data.activity.some((event: { type: string }) => event.type === 'authenticator_added'), 'the activity')
    for (const secret of [session.refreshToken, new URL(otpauthUri).searchParams.get('secret') ?? 'none', ...recoveryCodes]) {
      t.notOk(answer.body.includes(secret), 'no secret in it')
    }
    const other = await login(app, { email: newEmail('export-other') })
    t.equal((await app.inject({ method: 'GET', url: '/v1/me/export', headers: bearer(other.accessToken) })).json().user.id, other.user.id)
    t.equal((await app.inject({ method: 'GET', url: '/v1/me/export' })).statusCode, 401)
  })
}
