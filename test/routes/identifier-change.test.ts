import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { sendGridEnv, startFakeSendGrid, type FakeSendGrid } from '../helpers/fake-sendgrid.ts'
import { bearer, codeFromOutbox, deliveriesSettled, login, newEmail, outboxOf } from '../helpers/login.ts'
import { REPEAT_LOGIN_ENV, enrolledUser, manualClock, totpCode } from '../helpers/totp.ts'

const REAUTH_WINDOW_STEPS = 10 // 5 minutes in 30 s clock steps

/** The newest message the fake SendGrid accepted for `to`. */
async function newestMail (app: FastifyInstance, sendgrid: FakeSendGrid, to: string) {
  await deliveriesSettled(app)
  const mail = sendgrid.accepted().filter((request) => request.body.personalizations[0].to[0].email === to).at(-1)
  if (mail === undefined) throw new Error(`no mail for ${to}`)
  return { subject: mail.body.subject as string, text: mail.body.content[0].value as string }
}

const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)?.[1] ?? ''

async function loginBySendGrid (app: FastifyInstance, sendgrid: FakeSendGrid, email: string) {
  const started = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email } })
  const code = codeIn((await newestMail(app, sendgrid, email)).text)
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })
  if (verified.statusCode !== 200) throw new Error(`verify answered ${verified.statusCode}: ${verified.body}`)
  return verified.json() as { accessToken: string, refreshToken: string, user: { id: string } }
}

const authTimeOf = (accessToken: string) => (JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as { auth_time?: number }).auth_time

async function sendGridApp (t: Test, clock: ReturnType<typeof manualClock>) {
  const sendgrid = await startFakeSendGrid()
  t.teardown(() => sendgrid.close())
  const app = await buildTestApp(t, {
    loadShedding: false, now: clock.now, env: { ...sendGridEnv(sendgrid), ...REPEAT_LOGIN_ENV }
  })
  return { app, sendgrid }
}

t.test('a stolen token older than 5 minutes cannot change the email; a fresh step-up code can, the old address is told, and every other session ends', async (t) => {
  const clock = manualClock()
  const { app, sendgrid } = await sendGridApp(t, clock)
  const oldEmail = newEmail('old')
  const newAddress = newEmail('new')
  const current = await loginBySendGrid(app, sendgrid, oldEmail)
  const other = await loginBySendGrid(app, sendgrid, oldEmail)
  const headers = bearer(current.accessToken)
  clock.steps(REAUTH_WINDOW_STEPS + 2)

  const started = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers, payload: { email: newAddress } })
  t.equal(started.statusCode, 202, 'a code may still be sent to the new address')
  const contact = {
    challengeId: started.json().challengeId, code: codeIn((await newestMail(app, sendgrid, newAddress)).text)
  }
  const refused = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: contact })
  t.equal(refused.statusCode, 403, 'no proof: 403')
  t.equal(refused.json().code, 'reauthentication_required')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers })).json().email, oldEmail, 'the email did not change')
  t.equal((await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: { ...contact, reauthToken: `${Math.floor(clock.ms() / 1000) + 60}.${'A'.repeat(43)}` } })).statusCode, 403, 'a forged proof: 403')

  // the step-up: a code to the address the account already has
  const reauth = await app.inject({ method: 'POST', url: '/v1/me/reauth', headers, payload: {} })
  t.equal(reauth.statusCode, 202)
  t.equal(reauth.json().destination, `${oldEmail[0]}***@example.org`, 'to the current email, masked')
  const reauthCode = codeIn((await newestMail(app, sendgrid, oldEmail)).text)
  const wrong = await app.inject({ method: 'POST', url: '/v1/me/reauth/verify', headers, payload: { challengeId: reauth.json().challengeId, code: reauthCode === '000000' ? '000001' : '000000' } })
  t.equal(wrong.statusCode, 400, 'a wrong step-up code is a wrong code')
  const proof = await app.inject({ method: 'POST', url: '/v1/me/reauth/verify', headers, payload: { challengeId: reauth.json().challengeId, code: reauthCode } })
  t.equal(proof.statusCode, 200)
  t.match(proof.json(), { reauthToken: String, expiresIn: 300 })
  const otherProof = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers: bearer(other.accessToken), payload: { ...contact, reauthToken: proof.json().reauthToken } })
  t.equal(otherProof.statusCode, 403, 'a proof works only for the session that earned it')

  // the refused attempt left the new address's code usable
  const changed = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: { ...contact, reauthToken: proof.json().reauthToken } })
  t.equal(changed.statusCode, 200, changed.body)
  t.equal(changed.json().email, newAddress, 'the email changed')

  const notice = await newestMail(app, sendgrid, oldEmail)
  t.match(notice.subject, /email address was changed/, 'the old address is told')
  t.match(notice.text, `${newAddress[0]}***@example.org`, 'naming the new address, masked')
  t.notMatch(notice.text, newAddress, 'never in full')
  t.notMatch(notice.text, /\b\d{6}\b/, 'and no code')

  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers })).statusCode, 200, 'this session goes on')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(other.accessToken) })).statusCode, 401, 'another session\'s access token is refused')
  t.equal((await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: other.refreshToken } })).statusCode, 401, 'and its refresh token')
  const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: current.refreshToken } })
  t.equal(refreshed.statusCode, 200, 'this session still refreshes')
  t.type(authTimeOf(current.accessToken), 'number')
  t.equal(authTimeOf(refreshed.json().accessToken), authTimeOf(current.accessToken), 'auth_time survives the refresh')
})

t.test('auth_time is the sign-in\'s, unchanged by refreshes; within 5 minutes of it no other proof is needed', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: REPEAT_LOGIN_ENV })
  const email = newEmail()
  const session = await login(app, { email })
  t.equal(authTimeOf(session.accessToken), Math.floor(clock.ms() / 1000), 'the sign-in time, epoch seconds')
  const other = await login(app, { email })
  clock.steps(REAUTH_WINDOW_STEPS - 2)
  const refreshed = (await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })).json()
  t.equal(authTimeOf(refreshed.accessToken), authTimeOf(session.accessToken), 'a refresh keeps it')

  const phone = '+12015550147'
  const headers = bearer(refreshed.accessToken)
  const started = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers, payload: { phone } })
  const added = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: { challengeId: started.json().challengeId, code: await codeFromOutbox(app, phone) } })
  t.equal(added.statusCode, 200, 'a sign-in 4 minutes ago is proof enough')
  t.equal(added.json().phone, phone)
  const notices = (await outboxOf(app, email)).json().messages as Array<{ text: string }>
  t.match(notices[0]?.text, '+1******0147', 'the email on the account is told a phone was added')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(other.accessToken) })).statusCode, 401, 'the other session ended')
})

t.test('a code of the authenticator app is proof too; a wrong one is not', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: REPEAT_LOGIN_ENV })
  const { headers, otpauthUri } = await enrolledUser(app, clock)
  clock.steps(REAUTH_WINDOW_STEPS + 2)
  const newAddress = newEmail('new')
  const started = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers, payload: { email: newAddress } })
  const contact = { challengeId: started.json().challengeId, code: await codeFromOutbox(app, newAddress) }
  const right = totpCode(otpauthUri, clock.ms())
  const wrong = right === '000000' ? '000001' : '000000'
  const refused = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: { ...contact, totpCode: wrong } })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'reauthentication_required')
  const changed = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: { ...contact, totpCode: right } })
  t.equal(changed.statusCode, 200, changed.body)
  t.equal(changed.json().email, newAddress)
})

t.test('a step-up goes to an identifier the account has, on the channel asked for', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const session = await login(app, { email: newEmail() })
  const noPhone = await app.inject({ method: 'POST', url: '/v1/me/reauth', headers: bearer(session.accessToken), payload: { channel: 'sms' } })
  t.equal(noPhone.statusCode, 409, 'an account without a phone gets no SMS step-up')
  t.equal(noPhone.json().code, 'conflict')
  const byEmail = await app.inject({ method: 'POST', url: '/v1/me/reauth', headers: bearer(session.accessToken), payload: { channel: 'email' } })
  t.equal(byEmail.statusCode, 202)
  t.equal(byEmail.json().channel, 'email')
  const stranger = await login(app, { email: newEmail() })
  const code = await codeFromOutbox(app, session.user.email as string)
  const stolen = await app.inject({ method: 'POST', url: '/v1/me/reauth/verify', headers: bearer(stranger.accessToken), payload: { challengeId: byEmail.json().challengeId, code } })
  t.equal(stolen.statusCode, 400, 'another account\'s step-up code proves nothing for this one')
})

t.test('a step-up proof lasts 5 minutes', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now })
  const email = newEmail()
  const session = await login(app, { email })
  const headers = bearer(session.accessToken)
  clock.steps(REAUTH_WINDOW_STEPS + 2)
  const reauth = await app.inject({ method: 'POST', url: '/v1/me/reauth', headers })
  t.equal(reauth.statusCode, 202, 'no body needed')
  const proof = await app.inject({ method: 'POST', url: '/v1/me/reauth/verify', headers, payload: { challengeId: reauth.json().challengeId, code: await codeFromOutbox(app, email) } })
  clock.steps(REAUTH_WINDOW_STEPS + 1)
  const newAddress = newEmail('new')
  const started = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers, payload: { email: newAddress } })
  const late = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: { challengeId: started.json().challengeId, code: await codeFromOutbox(app, newAddress), reauthToken: proof.json().reauthToken } })
  t.equal(late.statusCode, 403)
  t.match(late.json().detail, /expired/)
})
