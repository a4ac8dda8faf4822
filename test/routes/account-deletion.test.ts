import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { adminKeyEnv } from '../helpers/admin.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'
import { uniqueKeyPrefix } from '../helpers/redis.ts'
import { findInStores } from '../helpers/store-scan.ts'
import { addPasskey, newAuthenticator, PASSKEY_ENV } from '../helpers/passkeys.ts'
import { manualClock, REPEAT_LOGIN_ENV, totpCode } from '../helpers/totp.ts'
import { randomBytes } from 'node:crypto'

// fixed codes, never delivered: the outbox holds nothing of theirs, and no worker is needed to sign in
const CODE = '246810'
const FIXED = { TEST_IDENTIFIERS: `*@erasure.example=${CODE},+1201555*=${CODE}`, TEST_IDENTIFIERS_SKIP_QUOTA: 'true' }

async function signIn (app: FastifyInstance, identifier: { email: string } | { phone: string }) {
  const started = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: identifier })
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code: CODE } })
  if (verified.statusCode !== 200) throw new Error(`verify answered ${verified.statusCode}: ${verified.body}`)
  return verified.json() as { accessToken: string, refreshToken: string, user: { id: string } }
}

t.test('erasure: afterwards no MongoDB document and no Redis key or value holds the user\'s id, email or phone', async (t) => {
  const clock = manualClock()
  const redisKeyPrefix = uniqueKeyPrefix('erasure')
  // no worker: the notices stay queued (sealed), so the scan sees them as jobs
  const app = await buildTestApp(t, {
    outbox: true, loadShedding: false, limiter: false, now: clock.now, redisKeyPrefix, env: { ...FIXED, ...PASSKEY_ENV, DELIVERY_WORKER: 'false', IDENTIFIER_UNDO_URL: 'https://app.example/account/undo' }
  })
  let email = `erase-${randomBytes(5).toString('hex')}@erasure.example`
  const phone = `+1201555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`
  const first = await signIn(app, { email })
  const headers = bearer(first.accessToken)
  const userId = first.user.id

  // the phone joins the account (the email is told by a notice), then signs in too
  const contact = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers, payload: { phone } })
  const attached = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: { challengeId: contact.json().challengeId, code: CODE } })
  t.equal(attached.statusCode, 200, attached.body)
  const byPhone = await signIn(app, { phone })
  t.equal(byPhone.user.id, userId)

  // the email is replaced: the old one gets an undo link, whose entry lives on for 7 days
  const replaced = email
  email = `erase-${randomBytes(5).toString('hex')}@erasure.example`
  const change = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers, payload: { email } })
  const changed = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: { challengeId: change.json().challengeId, code: CODE } })
  t.equal(changed.statusCode, 200, changed.body)

  // an authenticator app, with its recovery codes and a notice
  const enrolment = await app.inject({ method: 'POST', url: '/v1/me/totp', headers })
  const { otpauthUri } = enrolment.json()
  const confirmed = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers, payload: { code: totpCode(otpauthUri, clock.ms()) } })
  t.equal(confirmed.statusCode, 200, confirmed.body)
  // a passkey, and creation options never answered (their challenge waits in Redis)
  t.equal((await addPasskey(app, first.accessToken, newAuthenticator())).statusCode, 201)
  t.equal((await app.inject({ method: 'POST', url: '/v1/me/passkeys/options', headers })).statusCode, 200)
  t.ok((await app.inject({ method: 'GET', url: '/v1/me/activity', headers })).json().events.length >= 3, 'activity recorded')
  t.ok(await app.deliveryQueue.pending() > 0, 'notices are queued')
  const before = await findInStores(app, redisKeyPrefix, [userId, email, replaced, phone])
  t.ok(before.some((where) => where.startsWith('mongo users')), 'the scan finds what is there')
  t.ok(before.some((where) => where.startsWith('mongo passkeys')), 'the passkey names the user')

  const deleted = await app.inject({ method: 'DELETE', url: '/v1/me', headers })
  t.equal(deleted.statusCode, 204, deleted.body)

  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(byPhone.accessToken) })).statusCode, 401, 'every access token ends at once')
  const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: byPhone.refreshToken } })
  t.equal(refreshed.statusCode, 401, 'and every refresh token')
  t.same(await findInStores(app, redisKeyPrefix, [userId, email, replaced, phone]), [], 'nothing holds the id, email or phone in the clear')

  const again = await signIn(app, { email })
  t.not(again.user.id, userId, 'signing in again creates a new account')
  t.match((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(again.accessToken) })).json(), { email, phone: null, mfaEnrolled: undefined })
})

for (const stores of ['memory', 'real'] as const) {
  t.test(`${stores} stores`, async (t) => {
    t.test('DELETE /v1/me needs a recent sign-in, a step-up or an authenticator code', async (t) => {
      const clock = manualClock()
      const options = { stores, outbox: true, loadShedding: false, now: clock.now, env: REPEAT_LOGIN_ENV }
      const app = await buildTestApp(t, options)
      const email = newEmail('delete-proof')
      const session = await login(app, { email })
      clock.advance(6 * 60_000)
      const refused = await app.inject({ method: 'DELETE', url: '/v1/me', headers: bearer(session.accessToken) })
      t.equal(refused.statusCode, 403)
      t.equal(refused.json().code, 'reauthentication_required')
      t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) })).statusCode, 200, 'still there')
      const fresh = await login(app, { email })
      t.equal((await app.inject({ method: 'DELETE', url: '/v1/me', headers: bearer(fresh.accessToken) })).statusCode, 204)
      t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) })).statusCode, 401)
      t.equal(await app.users.findById(session.user.id), null)
      t.same(await app.sessions.listActive(session.user.id, clock.now()), [])
      const again = await login(app, { email })
      t.not(again.user.id, session.user.id, 'a new account, a new id')
    })

    t.test('DELETE /v1/admin/users/{id}: the same erasure; 404 once gone', async (t) => {
      const admin = adminKeyEnv()
      const env = { ...REPEAT_LOGIN_ENV, ...admin.env }
      const app = await buildTestApp(t, { stores, outbox: true, loadShedding: false, env })
      const session = await login(app, { email: newEmail('admin-delete') })
      const url = `/v1/admin/users/${session.user.id}`
      t.equal((await app.inject({ method: 'DELETE', url, headers: admin.headers })).statusCode, 204)
      t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) })).statusCode, 401)
      t.equal((await app.inject({ method: 'GET', url, headers: admin.headers })).statusCode, 404)
      t.equal((await app.inject({ method: 'DELETE', url, headers: admin.headers })).statusCode, 404)
    })
  })
}
