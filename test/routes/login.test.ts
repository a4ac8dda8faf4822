import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, codeFromOutbox, login, newEmail, newPhone, outboxOf, startLogin } from '../helpers/login.ts'

t.test('email login: 202 without the code, then tokens and the user', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const email = newEmail('jane')
  const started = await startLogin(app, { email: `  ${email.toUpperCase()} ` })
  t.equal(started.statusCode, 202)
  const challenge = started.json()
  t.match(challenge, { challengeId: /^[0-9a-f]{4}\.[A-Za-z0-9_-]{22}$/, channel: 'email', expiresAt: String, resendAfter: String })
  t.equal(challenge.destination, `${email[0]}***@example.org`)
  const code = await codeFromOutbox(app, email)
  t.match(code, /^\d{6}$/)
  t.notMatch(started.body, code, 'the code is not in the response')

  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: challenge.challengeId, code } })
  t.equal(verified.statusCode, 200)
  const body = verified.json()
  t.match(body, { accessToken: String, refreshToken: String, tokenType: 'Bearer', expiresIn: 900 })
  t.match(body.user, { email, phone: null, status: 'active', emailVerifiedAt: String, lastLoginAt: String })

  const me = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(body.accessToken) })
  t.equal(me.statusCode, 200)
  t.equal(me.json().id, body.user.id)

  const again = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: challenge.challengeId, code } })
  t.equal(again.statusCode, 410, 'a code works once')
  t.equal(again.json().code, 'challenge_expired')
})

t.test('phone login in national format is stored as E.164', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const phone = newPhone()
  const national = `(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`
  const started = await startLogin(app, { phone: national })
  t.equal(started.statusCode, 202)
  t.equal(started.json().channel, 'sms')
  t.equal(started.json().destination, `+1******${phone.slice(-4)}`)
  const code = await codeFromOutbox(app, phone)
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })
  t.equal(verified.statusCode, 200)
  t.match(verified.json().user, { phone, email: null, phoneVerifiedAt: String })
})

t.test('a wrong code counts an attempt; the limit ends the challenge', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const email = newEmail()
  const started = await startLogin(app, { email })
  const code = await codeFromOutbox(app, email)
  const wrong = code === '000000' ? '111111' : '000000'
  const verify = (value: string) => app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code: value } })
  const first = await verify(wrong)
  t.equal(first.statusCode, 400)
  t.match(first.json(), { code: 'invalid_code', remainingAttempts: 4 })
  for (let attempt = 0; attempt < 3; attempt++) await verify(wrong)
  const last = await verify(wrong)
  t.equal(last.statusCode, 429)
  t.equal(last.json().code, 'too_many_attempts')
  t.equal((await verify(code)).statusCode, 410, 'the right code is refused afterwards')
})

t.test('invalid identifiers are refused with the field named', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  for (const body of [{ email: 'not-an-email' }, { phone: '12' }, {}, { email: newEmail(), phone: newPhone() }, { email: 'a\r\nb@example.org' }]) {
    const response = await startLogin(app, body)
    t.equal(response.statusCode, 400, JSON.stringify(body))
    t.equal(response.json().code, 'validation_failed')
  }
})

t.test('sign-up closed: unknown identifiers get the same answer and no message; known users log in', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { SIGNUP: 'closed' } })
  const known = newEmail('known')
  await app.users.findOrCreateByIdentifier('email', known)
  const unknown = newEmail('unknown')

  const knownStart = await startLogin(app, { email: known })
  const unknownStart = await startLogin(app, { email: unknown })
  t.equal(unknownStart.statusCode, knownStart.statusCode)
  t.same(Object.keys(unknownStart.json()).sort(), Object.keys(knownStart.json()).sort(), 'same body shape')
  t.same((await outboxOf(app, unknown)).json(), { messages: [] }, 'nothing sent')

  const guess = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: unknownStart.json().challengeId, code: '123456' } })
  t.equal(guess.statusCode, 400)
  t.equal(guess.json().code, 'invalid_code')

  const code = await codeFromOutbox(app, known)
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: knownStart.json().challengeId, code } })
  t.equal(verified.statusCode, 200)
  t.equal(await app.users.findByIdentifier('email', unknown), null, 'no account was made')
})

t.test('a disabled user gets the same answer as anyone, no message, and no session', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } })
  const email = newEmail('disabled')
  const session = await login(app, { email })
  await app.users.setStatus(session.user.id, 'disabled')
  const outbox = async () => (await outboxOf(app, email)).json().messages.length
  const sentBefore = await outbox()

  const started = await startLogin(app, { email })
  const stranger = await startLogin(app, { email: newEmail() })
  t.equal(started.statusCode, 202)
  t.same(Object.keys(started.json()).sort(), Object.keys(stranger.json()).sort(), 'same body shape')
  t.equal(await outbox(), sentBefore, 'no message to a disabled user')
  const guess = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code: '123456' } })
  t.equal(guess.json().code, 'invalid_code')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) })).statusCode, 401, 'a disabled user has no access')
})

t.test('refresh rotates; reusing a rotated token ends the whole session', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { REFRESH_REUSE_GRACE_SECONDS: '0' } })
  const first = await login(app, { email: newEmail() })
  const refresh = (refreshToken: string) => app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken } })

  const second = await refresh(first.refreshToken)
  t.equal(second.statusCode, 200)
  t.match(second.json(), { accessToken: String, refreshToken: String, tokenType: 'Bearer', expiresIn: 900 })
  t.not(second.json().refreshToken, first.refreshToken)
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(second.json().accessToken) })).statusCode, 200)

  const reuse = await refresh(first.refreshToken)
  t.equal(reuse.statusCode, 401)
  t.equal(reuse.json().code, 'token_reused')
  t.equal((await refresh(second.json().refreshToken)).statusCode, 401, 'the successor died with the family')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(second.json().accessToken) })).statusCode, 401, 'and so did its access token')
  t.equal((await refresh('not-a-token-at-all-really')).json().code, 'unauthorized')
})

t.test('a refresh token names its session: a forged selector or an unknown shape is unauthorized and ends nothing', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const alice = await login(app, { email: newEmail() })
  const bob = await login(app, { email: newEmail() })
  const sessionOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()).sid
  const refresh = (refreshToken: string) => app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken } })
  const [selector, generation, secret = ''] = alice.refreshToken.split('.')
  t.equal(selector, sessionOf(alice.accessToken), 'the selector is the session id')
  t.equal(generation, '0', 'then the generation')
  t.match(secret, /^[\w-]{43}$/, 'the nonce and tag: 256 bits, base64url')
  const bobs = bob.refreshToken.split('.')[2]
  for (const forged of [`${sessionOf(bob.accessToken)}.0.${secret}`, `${selector}.0.${bobs}`, secret, `${selector}.0.${secret}x`, `${selector}.1.${secret}`, `${selector}.${secret}`]) {
    const answer = await refresh(forged)
    t.equal(answer.statusCode, 401)
    t.equal(answer.json().code, 'unauthorized', 'not a reuse: nothing of the session was presented')
  }
  const next = await refresh(alice.refreshToken)
  t.equal(next.statusCode, 200, 'alice\'s session lives on')
  t.equal(next.json().refreshToken.split('.')[0], selector, 'and keeps its selector')
  t.equal((await refresh(bob.refreshToken)).statusCode, 200, 'so does bob\'s')
})

t.test('logout with a refresh token also ends that session, only when it is yours', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } })
  const email = newEmail()
  const [first, second, stranger] = [
    await login(app, { email }), await login(app, { email }), await login(app, { email: newEmail() })
  ]
  const refresh = (refreshToken: string) => app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken } })
  const logout = (accessToken: string, refreshToken: string) =>
    app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(accessToken), payload: { refreshToken } })
  t.equal((await logout(first.accessToken, stranger.refreshToken)).statusCode, 204)
  t.equal((await refresh(first.refreshToken)).statusCode, 401, 'the access token\'s session ended')
  const strangers = await refresh(stranger.refreshToken)
  t.equal(strangers.statusCode, 200, 'another user\'s session did not')
  const third = await login(app, { email })
  t.equal((await logout(third.accessToken, second.refreshToken)).statusCode, 204)
  t.equal((await refresh(second.refreshToken)).statusCode, 401, 'the refresh token\'s session ended too')
  t.equal((await logout(strangers.json().accessToken, 'not-a-token-at-all-really')).statusCode, 204, 'a malformed token ends only the access token\'s session')
  t.equal((await refresh(strangers.json().refreshToken)).statusCode, 401)
})

t.test('logout ends that session; logout/all ends every session', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const email = newEmail()
  const one = await login(app, { email })
  const logout = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(one.accessToken), payload: {} })
  t.equal(logout.statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(one.accessToken) })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: one.refreshToken } })).statusCode, 401)

  const phone = newPhone()
  const a = await login(app, { phone })
  const b = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: a.refreshToken } })
  const sessions = await app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(b.json().accessToken) })
  t.equal(sessions.json().sessions.length, 1)
  t.equal(sessions.json().sessions[0].current, true)
  const all = await app.inject({ method: 'POST', url: '/v1/auth/logout/all', headers: bearer(b.json().accessToken) })
  t.equal(all.statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(b.json().accessToken) })).statusCode, 401)
})

t.test('profile and sessions of the signed-in user', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const email = newEmail()
  const one = await login(app, { email })
  const patched = await app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(one.accessToken), payload: { name: 'Jane Doe', locale: 'fr' } })
  t.equal(patched.statusCode, 200)
  t.match(patched.json(), { name: 'Jane Doe', locale: 'fr', email })
  t.equal((await app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(one.accessToken), payload: { role: 'admin' } })).statusCode, 400)

  const sessions = await app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(one.accessToken) })
  const [session] = sessions.json().sessions
  t.match(session, { id: String, current: true, amr: ['otp'] })
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/me/sessions/000000000000000000000000', headers: bearer(one.accessToken) })).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/me/sessions/${session.id}`, headers: bearer(one.accessToken) })).statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(one.accessToken) })).statusCode, 401)
})

t.test('contact verification attaches a phone; another account\'s contact is a 409', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const owner = await login(app, { email: newEmail('owner') })
  const phone = newPhone()
  const started = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers: bearer(owner.accessToken), payload: { phone } })
  t.equal(started.statusCode, 202)
  const code = await codeFromOutbox(app, phone)
  const verified = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers: bearer(owner.accessToken), payload: { challengeId: started.json().challengeId, code } })
  t.equal(verified.statusCode, 200)
  t.match(verified.json(), { id: owner.user.id, phone, phoneVerifiedAt: String })

  const intruder = await login(app, { email: newEmail('intruder') })
  const email = owner.user.email as string
  const claim = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers: bearer(intruder.accessToken), payload: { email } })
  t.equal(claim.statusCode, 202, 'the cooldown is per purpose, and this one is new for that email')
  const claimCode = await codeFromOutbox(app, email)
  const conflict = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers: bearer(intruder.accessToken), payload: { challengeId: claim.json().challengeId, code: claimCode } })
  t.equal(conflict.statusCode, 409)
  t.equal(conflict.json().code, 'conflict')
  t.equal((await app.users.findByIdentifier('email', email))?.id, owner.user.id, 'the owner keeps it')
})

t.test('JWKS publishes the public signing key only', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const response = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(response.statusCode, 200)
  const [key] = response.json().keys
  t.match(key, { kty: 'OKP', crv: 'Ed25519', kid: String, alg: 'EdDSA', use: 'sig', x: String })
  t.notOk('d' in key, 'no private part')
})

t.test('logout takes no body at all', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const session = await login(app, { email: newEmail() })
  const response = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(session.accessToken) })
  t.equal(response.statusCode, 204)
  t.equal(response.body, '')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) })).statusCode, 401)
})

// one verify wins here, so the user is created once; the race of the creation itself is the user contract's
// "20 concurrent findOrCreate calls" (test/contract/user-repository.ts), on every adapter
t.test('20 concurrent verifies of one code: one wins, and later logins find the user it made', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } })
  const email = newEmail('race')
  const started = await startLogin(app, { email })
  const code = await codeFromOutbox(app, email)
  const answers = await Promise.all(Array.from({ length: 20 }, () =>
    app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })))
  const winners = answers.filter((answer) => answer.statusCode === 200)
  t.equal(winners.length, 1, 'one verify wins')
  t.ok(answers.filter((answer) => answer.statusCode !== 200).every((answer) => answer.json().code === 'challenge_expired'), 'the rest find the challenge used')

  // a second login of the same identifier right after finds that user, never a second one
  const again = await login(app, { email })
  const user = await app.users.findByIdentifier('email', email)
  t.equal(user?.id, winners[0]?.json().user.id)
  t.equal(again.user.id, user?.id)
})
