import t from 'tap'
import { Writable } from 'node:stream'
import mongoose from 'mongoose'
import type { InjectOptions } from 'fastify'
import { buildTestApp, testConfig } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'
import { claimsOf, enrolledUser, firstFactor, manualClock, REPEAT_LOGIN_ENV, secretOf, totpCode } from '../helpers/totp.ts'
import { loggerOptions } from '../../plugins/logger.ts'

t.test('enrolment: a URI and a QR code, confirmed by a first code, answering ten recovery codes', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now })
  const email = newEmail('enrol')
  const { accessToken } = await login(app, { email })
  const headers = bearer(accessToken)

  t.match((await app.inject({ method: 'GET', url: '/v1/me/totp', headers })).json(), { status: 'none', recoveryCodesLeft: 0 })
  const enrolment = await app.inject({ method: 'POST', url: '/v1/me/totp', headers })
  t.equal(enrolment.statusCode, 200)
  t.equal(enrolment.headers['cache-control'], 'no-store')
  const { otpauthUri, qrCode } = enrolment.json()
  const uri = new URL(otpauthUri)
  t.equal(uri.protocol, 'otpauth:')
  t.equal(uri.host, 'totp')
  t.equal(decodeURIComponent(uri.pathname), `/otp-gate:${email}`, 'issuer and label')
  t.match(Object.fromEntries(uri.searchParams), { issuer: 'otp-gate', algorithm: 'SHA1', digits: '6', period: '30', secret: /^[A-Z2-7]{32}$/ })
  t.match(qrCode, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/)
  t.match((await app.inject({ method: 'GET', url: '/v1/me/totp', headers })).json(), { status: 'pending' })

  const wrong = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers, payload: { code: totpCode(otpauthUri, clock.ms(), 5) } })
  t.equal(wrong.statusCode, 400)
  t.equal(wrong.json().code, 'invalid_code')

  const confirmed = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers, payload: { code: totpCode(otpauthUri, clock.ms()) } })
  t.equal(confirmed.statusCode, 200)
  const { recoveryCodes } = confirmed.json()
  t.equal(recoveryCodes.length, 10)
  t.equal(new Set(recoveryCodes).size, 10)
  t.notMatch(confirmed.body, secretOf(otpauthUri), 'the secret is not in the answer')
  const status = (await app.inject({ method: 'GET', url: '/v1/me/totp', headers })).json()
  t.match(status, { status: 'active', confirmedAt: clock.now().toISOString(), recoveryCodesLeft: 10 })

  const again = await app.inject({ method: 'POST', url: '/v1/me/totp', headers })
  t.equal(again.statusCode, 409, 'no second enrolment while one is active')
  t.equal(again.json().code, 'conflict')
  clock.steps(1)
  const reconfirm = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers, payload: { code: totpCode(otpauthUri, clock.ms()) } })
  t.equal(reconfirm.statusCode, 409, 'confirming twice is a conflict')
})

t.test('a pending enrolment is replaced by the next and expires', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now })
  const headers = bearer((await login(app, { email: newEmail() })).accessToken)
  const first = (await app.inject({ method: 'POST', url: '/v1/me/totp', headers })).json().otpauthUri
  const second = (await app.inject({ method: 'POST', url: '/v1/me/totp', headers })).json().otpauthUri
  t.not(secretOf(first), secretOf(second), 'a new secret each time')
  const stale = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers, payload: { code: totpCode(first, clock.ms()) } })
  t.equal(stale.statusCode, 400, 'the replaced secret does not confirm')
  clock.steps(31)
  const late = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers, payload: { code: totpCode(second, clock.ms()) } })
  t.equal(late.statusCode, 410, 'after 15 minutes')
  t.equal(late.json().code, 'challenge_expired')
  t.match((await app.inject({ method: 'GET', url: '/v1/me/totp', headers })).json(), { status: 'none' })
  const none = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers: bearer((await login(app, { email: newEmail() })).accessToken), payload: { code: '123456' } })
  t.equal(none.statusCode, 410, 'nothing to confirm')
})

t.test('the routes need a bearer token and a well-formed code', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  for (const [method, url] of [['GET', '/v1/me/totp'], ['POST', '/v1/me/totp'], ['POST', '/v1/me/totp/confirm'], ['DELETE', '/v1/me/totp'], ['POST', '/v1/me/totp/recovery-codes']] as const) {
    const response = await app.inject({ method, url, payload: { code: '123456' } })
    t.equal(response.statusCode, 401, `${method} ${url}`)
  }
  const headers = bearer((await login(app, { email: newEmail() })).accessToken)
  for (const code of ['12345', '1234567', 'abcdef', '']) {
    const response = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers, payload: { code } })
    t.equal(response.statusCode, 400, code)
    t.equal(response.json().code, 'validation_failed')
  }
})

t.test('recovery codes: regeneration needs a code and invalidates the old set', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now })
  const { headers, otpauthUri, recoveryCodes } = await enrolledUser(app, clock)
  const wrong = await app.inject({ method: 'POST', url: '/v1/me/totp/recovery-codes', headers, payload: { code: totpCode(otpauthUri, clock.ms(), 4) } })
  t.equal(wrong.statusCode, 400)
  const regenerated = await app.inject({ method: 'POST', url: '/v1/me/totp/recovery-codes', headers, payload: { code: totpCode(otpauthUri, clock.ms()) } })
  t.equal(regenerated.statusCode, 200)
  t.equal(regenerated.headers['cache-control'], 'no-store')
  const fresh = regenerated.json().recoveryCodes as string[]
  t.equal(fresh.length, 10)
  t.same(fresh.filter((code) => recoveryCodes.includes(code)), [], 'all new')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me/totp', headers })).json().recoveryCodesLeft, 10)

  const old = await app.inject({ method: 'POST', url: '/v1/me/totp/recovery-codes', headers, payload: { code: recoveryCodes[0] } })
  t.equal(old.statusCode, 400, 'an old recovery code is refused')
  const byRecovery = await app.inject({ method: 'POST', url: '/v1/me/totp/recovery-codes', headers, payload: { code: fresh[0]!.toUpperCase() } })
  t.equal(byRecovery.statusCode, 200, 'a current recovery code (in any case) proves it too')
})

t.test('removal needs a current code or a recovery code; then logins need no second factor', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: { ...REPEAT_LOGIN_ENV, TOTP_PRIMARY_LOGIN: 'true' } })
  const { email, headers, otpauthUri, recoveryCodes } = await enrolledUser(app, clock)
  const wrong = await app.inject({ method: 'DELETE', url: '/v1/me/totp', headers, payload: { code: totpCode(otpauthUri, clock.ms(), -3) } })
  t.equal(wrong.statusCode, 400)
  const removed = await app.inject({ method: 'DELETE', url: '/v1/me/totp', headers, payload: { code: recoveryCodes[3] } })
  t.equal(removed.statusCode, 204)
  t.match((await app.inject({ method: 'GET', url: '/v1/me/totp', headers })).json(), { status: 'none', recoveryCodesLeft: 0 })
  const gone = await app.inject({ method: 'DELETE', url: '/v1/me/totp', headers, payload: { code: totpCode(otpauthUri, clock.ms()) } })
  t.equal(gone.statusCode, 404)
  t.equal(gone.json().code, 'not_found')
  const login = await firstFactor(app, email)
  t.equal(login.statusCode, 200)
  t.same(claimsOf(login.json().accessToken).amr, ['otp'], 'straight to a session')
  const totpLogin = await app.inject({ method: 'POST', url: '/v1/auth/totp', payload: { email, code: totpCode(otpauthUri, clock.ms()) } })
  t.equal(totpLogin.statusCode, 400, 'the old app no longer logs in')
})

t.test('the secret is sealed at rest and never in a later answer nor in the logs', async (t) => {
  const clock = manualClock()
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const config = testConfig(t, { loadShedding: false, outbox: true, env: { ...REPEAT_LOGIN_ENV, TOTP_PRIMARY_LOGIN: 'true' } })
  const app = await buildTestApp(t, { now: clock.now, logger: { ...(loggerOptions(config) as object), level: 'trace', stream } }, config)
  const email = newEmail('sealed')
  const { accessToken, user } = await login(app, { email })
  const headers = bearer(accessToken)
  const { otpauthUri } = (await app.inject({ method: 'POST', url: '/v1/me/totp', headers })).json()
  const secret = secretOf(otpauthUri)
  const later: string[] = []
  const record = async (options: InjectOptions) => {
    const response = await app.inject(options)
    later.push(response.body, JSON.stringify(response.headers))
    return response
  }
  const confirmed = await record({ method: 'POST', url: '/v1/me/totp/confirm', headers, payload: { code: totpCode(otpauthUri, clock.ms()) } })
  const recoveryCodes = confirmed.json().recoveryCodes as string[]
  await record({ method: 'GET', url: '/v1/me/totp', headers })
  await record({ method: 'GET', url: '/v1/me', headers })
  clock.steps(1)
  const challenge = await firstFactor(app, email)
  later.push(challenge.body)
  await record({ method: 'POST', url: '/v1/auth/mfa/verify', payload: { mfaToken: challenge.json().mfaToken, code: totpCode(otpauthUri, clock.ms()) } })
  await record({ method: 'POST', url: '/v1/auth/totp', payload: { email, code: '000000' } })
  clock.steps(1)
  await record({ method: 'POST', url: '/v1/me/totp/recovery-codes', headers, payload: { code: totpCode(otpauthUri, clock.ms()) } })
  await record({ method: 'GET', url: '/openapi.json' })

  for (const body of later) t.notOk(body.includes(secret), 'not in an answer after enrolment')
  const log = lines.join('')
  t.ok(lines.length > 20, `${lines.length} log lines at trace level`)
  t.notOk(log.includes(secret), 'the secret is not logged')
  t.notOk(log.includes('otpauth://'), 'nor the URI')
  for (const code of recoveryCodes) t.notOk(log.includes(code), 'nor a recovery code')

  const database = mongoose.createConnection(config.MONGODB_URL!)
  t.teardown(() => database.close())
  const stored = await database.collection('totp_credentials').findOne({ _id: user.id as never })
  t.match(stored, { status: 'active', secret: { kid: /^ephemeral-/, iv: String, ciphertext: String, tag: String } })
  const raw = JSON.stringify(stored)
  t.notOk(raw.includes(secret), 'not stored in clear')
  for (const code of recoveryCodes) t.notOk(raw.includes(code) || raw.includes(code.replaceAll('-', '')), 'recovery codes stored hashed')
})

t.test('TOTP_ENCRYPTION_KEYS seals with its first key; rotation keeps older secrets working', async (t) => {
  const clock = manualClock()
  const key = (kid: string) => `${kid}:${Buffer.alloc(32, kid).toString('base64')}`
  const config = testConfig(t, { loadShedding: false, outbox: true, env: { TOTP_ENCRYPTION_KEYS: key('k1'), TOTP_PRIMARY_LOGIN: 'true' } })
  const app = await buildTestApp(t, { now: clock.now }, config)
  const { email, otpauthUri, session } = await enrolledUser(app, clock)
  const database = mongoose.createConnection(config.MONGODB_URL!)
  t.teardown(() => database.close())
  t.match(await database.collection('totp_credentials').findOne({ _id: session.user.id as never }), { secret: { kid: 'k1' } })
  await app.close()

  const rotated = await buildTestApp(t, { now: clock.now }, { ...config, TOTP_ENCRYPTION_KEYS: [key('k2'), key('k1')] })
  const login = await rotated.inject({ method: 'POST', url: '/v1/auth/totp', payload: { email, code: totpCode(otpauthUri, clock.ms()) } })
  t.equal(login.statusCode, 200, 'a secret sealed with k1 opens after k2 became current')
})
