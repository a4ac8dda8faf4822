import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'
import { claimsOf, enrolledUser, firstFactor, manualClock, REPEAT_LOGIN_ENV, totpCode } from '../helpers/totp.ts'

const mfaVerify = (app: Awaited<ReturnType<typeof buildTestApp>>, mfaToken: string, code: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/mfa/verify', payload: { mfaToken, code } })
// POST /v1/auth/totp exists only with this
const PRIMARY_ENV = { TOTP_PRIMARY_LOGIN: 'true' }
const totpLogin = (app: Awaited<ReturnType<typeof buildTestApp>>, body: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/v1/auth/totp', payload: body })

t.test('second factor: the email code answers an MFA challenge, a TOTP code completes the login', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: REPEAT_LOGIN_ENV })
  const { email, otpauthUri, session } = await enrolledUser(app, clock)

  const challenge = await firstFactor(app, email)
  t.equal(challenge.statusCode, 200)
  const body = challenge.json()
  t.same(Object.keys(body).sort(), ['expiresIn', 'methods', 'mfaRequired', 'mfaToken'], 'no tokens yet')
  t.match(body, { mfaRequired: true, mfaToken: /^[A-Za-z0-9_-]{43}$/, expiresIn: 300, methods: ['totp', 'recovery'] })

  const wrong = await mfaVerify(app, body.mfaToken, totpCode(otpauthUri, clock.ms(), 3))
  t.equal(wrong.statusCode, 400)
  t.equal(wrong.json().code, 'invalid_code')
  const done = await mfaVerify(app, body.mfaToken, totpCode(otpauthUri, clock.ms()))
  t.equal(done.statusCode, 200, 'a wrong code leaves the token usable')
  const login = done.json()
  t.match(login, { tokenType: 'Bearer', refreshToken: String, user: { id: session.user.id, email } })
  t.same(claimsOf(login.accessToken).amr, ['otp', 'totp', 'mfa'])
  const me = await app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(login.accessToken) })
  t.same(me.json().sessions.find((entry: { current: boolean }) => entry.current).amr, ['otp', 'totp', 'mfa'])

  clock.steps(1)
  const reused = await mfaVerify(app, body.mfaToken, totpCode(otpauthUri, clock.ms()))
  t.equal(reused.statusCode, 410, 'the mfaToken works once')
  t.equal(reused.json().code, 'challenge_expired')
  const unknown = await mfaVerify(app, 'A'.repeat(43), totpCode(otpauthUri, clock.ms()))
  t.equal(unknown.statusCode, 410)
})

t.test('an mfaToken expires after five minutes', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, stores: 'memory', env: REPEAT_LOGIN_ENV })
  const { email, otpauthUri } = await enrolledUser(app, clock)
  const { mfaToken } = (await firstFactor(app, email)).json()
  clock.steps(11)
  const late = await mfaVerify(app, mfaToken, totpCode(otpauthUri, clock.ms()))
  t.equal(late.statusCode, 410)
  t.equal(late.json().code, 'challenge_expired')
})

t.test('MFA=off: the email code alone opens a session', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: { ...REPEAT_LOGIN_ENV, MFA: 'off' } })
  const { email } = await enrolledUser(app, clock)
  const verified = await firstFactor(app, email)
  t.equal(verified.statusCode, 200)
  t.same(claimsOf(verified.json().accessToken).amr, ['otp'])
})

t.test('a recovery code completes a login once; of two parallel uses one wins', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: REPEAT_LOGIN_ENV })
  const { email, headers, recoveryCodes } = await enrolledUser(app, clock)
  const [first, second] = recoveryCodes as [string, string]

  const done = await mfaVerify(app, (await firstFactor(app, email)).json().mfaToken, first)
  t.equal(done.statusCode, 200)
  t.same(claimsOf(done.json().accessToken).amr, ['otp', 'recovery', 'mfa'])
  const again = await mfaVerify(app, (await firstFactor(app, email)).json().mfaToken, first)
  t.equal(again.statusCode, 400, 'the same recovery code is refused')
  t.equal(again.json().code, 'invalid_code')

  const tokens = [(await firstFactor(app, email)).json().mfaToken, (await firstFactor(app, email)).json().mfaToken]
  const parallel = await Promise.all(tokens.map((token) => mfaVerify(app, token, second)))
  t.same(parallel.map((response) => response.statusCode).sort(), [200, 400], 'one wins')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me/totp', headers })).json().recoveryCodesLeft, 8)
})

t.test('parallel completions of one mfaToken with different recovery codes burn one code and open one session', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: REPEAT_LOGIN_ENV })
  const { email, headers, recoveryCodes } = await enrolledUser(app, clock)
  const { mfaToken } = (await firstFactor(app, email)).json()
  const parallel = await Promise.all(recoveryCodes.slice(0, 5).map((code) => mfaVerify(app, mfaToken, code)))
  t.same(parallel.map((response) => response.statusCode).sort(), [200, 410, 410, 410, 410], 'one completes; the token is gone for the rest')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me/totp', headers })).json().recoveryCodesLeft, 9, 'one recovery code spent')
})

t.test('a wrong code leaves the mfaToken usable', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: REPEAT_LOGIN_ENV })
  const { email, otpauthUri } = await enrolledUser(app, clock)
  const { mfaToken } = (await firstFactor(app, email)).json()
  const wrong = await mfaVerify(app, mfaToken, totpCode(otpauthUri, clock.ms()) === '000000' ? '111111' : '000000')
  t.equal(wrong.statusCode, 400)
  clock.steps(1)
  t.equal((await mfaVerify(app, mfaToken, totpCode(otpauthUri, clock.ms()))).statusCode, 200, 'the right code completes the login')
})

t.test('regenerated recovery codes replace the old set at login', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: REPEAT_LOGIN_ENV })
  const { email, headers, otpauthUri, recoveryCodes } = await enrolledUser(app, clock)
  const fresh = (await app.inject({ method: 'POST', url: '/v1/me/totp/recovery-codes', headers, payload: { code: totpCode(otpauthUri, clock.ms()) } })).json().recoveryCodes
  const old = await mfaVerify(app, (await firstFactor(app, email)).json().mfaToken, recoveryCodes[5]!)
  t.equal(old.statusCode, 400, 'an old code no longer works')
  const current = await mfaVerify(app, (await firstFactor(app, email)).json().mfaToken, fresh[5])
  t.equal(current.statusCode, 200, 'a new one does')
})

t.test('primary login with TOTP is off unless TOTP_PRIMARY_LOGIN=true: 404, even for a right code, and hidden from the document', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, stores: 'memory' })
  const { email, otpauthUri } = await enrolledUser(app, clock)
  const response = await totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms()) })
  t.equal(response.statusCode, 404)
  t.match(response.json(), { code: 'not_found', detail: 'No route for POST /v1/auth/totp.' })
  t.same(await totpLogin(app, { email: 'x' }).then((answer) => answer.json()), response.json(), 'the body is not even read')
  t.equal((await app.inject({ method: 'GET', url: '/v1/auth/totp' })).statusCode, 404, 'another method: 404, not 405')
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  t.notOk(document.paths['/v1/auth/totp'], 'not in the document')
  t.ok(document.paths['/v1/auth/mfa/verify'], 'the second factor is')
})

t.test('primary login with TOTP: amr totp; a code works once; replays of its step or earlier ones are refused', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: PRIMARY_ENV })
  const { email, otpauthUri, session } = await enrolledUser(app, clock)
  const code = totpCode(otpauthUri, clock.ms())
  const ok = await totpLogin(app, { email: email.toUpperCase(), code })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().user.id, session.user.id)
  t.same(claimsOf(ok.json().accessToken).amr, ['totp'])
  t.equal(claimsOf(ok.json().accessToken).sub, session.user.id)

  const replay = await totpLogin(app, { email, code })
  t.equal(replay.statusCode, 400, 'the same code again')
  t.equal(replay.json().code, 'invalid_code')
  const earlier = await totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms(), -1) })
  t.equal(earlier.statusCode, 400, 'a code of an earlier step, still within the drift window')

  clock.steps(1)
  const codeNow = totpCode(otpauthUri, clock.ms())
  const parallel = await Promise.all([
    totpLogin(app, { email, code: codeNow }), totpLogin(app, { email, code: codeNow })
  ])
  t.same(parallel.map((response) => response.statusCode).sort(), [200, 400], 'two parallel uses of one code: one wins')
})

t.test('drift: one step either way is accepted, two are refused', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: PRIMARY_ENV })
  const { email, otpauthUri } = await enrolledUser(app, clock)
  // clear of the step the confirmation used
  clock.steps(5)

  t.equal((await totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms(), -2) })).statusCode, 400, '2 steps behind')
  t.equal((await totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms(), -1) })).statusCode, 200, '1 step behind')
  clock.steps(10)
  t.equal((await totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms(), 2) })).statusCode, 400, '2 steps ahead')
  t.equal((await totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms(), 1) })).statusCode, 200, '1 step ahead')
  clock.steps(10)
  // 29 s into a step the next one is still 1 step away, and the one after is not accepted
  const late = clock.ms() - (clock.ms() % 30_000) + 29_000
  t.equal((await totpLogin(app, { email, code: totpCode(otpauthUri, late, 2) })).statusCode, 400, '2 steps ahead, end of a step')
  t.equal((await totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms()) })).statusCode, 200, 'the current step')
})

t.test('anti-enumeration: no user, no authenticator, wrong code all answer alike and count alike', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: { ...PRIMARY_ENV, TOTP_THROTTLE_AFTER_FAILURES: '2' } })
  const { email: enrolled, otpauthUri } = await enrolledUser(app, clock)
  const plain = newEmail('plain')
  await login(app, { email: plain })
  const unknown = newEmail('unknown')

  const strip = (body: Record<string, unknown>) => ({ ...body, instance: undefined })
  const answers = await Promise.all([enrolled, plain, unknown].map((email) =>
    totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms(), 5) })))
  for (const answer of answers) t.equal(answer.statusCode, 400)
  t.same(strip(answers[1]!.json()), strip(answers[0]!.json()), 'no authenticator: same body as a wrong code')
  t.same(strip(answers[2]!.json()), strip(answers[0]!.json()), 'no user: same body')

  for (const email of [enrolled, plain, unknown]) {
    await totpLogin(app, { email, code: '111111' })
    const third = await totpLogin(app, { email, code: '222222' })
    t.equal(third.statusCode, 400, 'the third failure is still answered as wrong')
    const after = await totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms()) })
    t.equal(after.statusCode, 429, `then throttled: ${email.split('-')[0]}`)
    t.equal(after.json().code, 'rate_limited')
    t.equal(after.headers['retry-after'], '1', 'the first throttle step')
  }
})

t.test('throttling is per user and shared by the second factor and account changes; recovery codes keep working', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: { ...REPEAT_LOGIN_ENV, ...PRIMARY_ENV, TOTP_THROTTLE_AFTER_FAILURES: '2' } })
  const { email, headers, otpauthUri, recoveryCodes } = await enrolledUser(app, clock)
  const { mfaToken } = (await firstFactor(app, email)).json()
  t.equal((await mfaVerify(app, mfaToken, '000000')).statusCode, 400, 'a wrong TOTP code at the second factor')
  t.equal((await mfaVerify(app, mfaToken, '000001')).statusCode, 400)
  t.equal((await app.inject({ method: 'POST', url: '/v1/me/totp/recovery-codes', headers, payload: { code: '000000' } })).statusCode, 400)
  t.equal((await mfaVerify(app, mfaToken, totpCode(otpauthUri, clock.ms()))).statusCode, 429, 'even a right TOTP code waits')
  t.equal((await app.inject({ method: 'POST', url: '/v1/me/totp/recovery-codes', headers, payload: { code: totpCode(otpauthUri, clock.ms()) } })).statusCode, 429, 'in account changes too')
  t.equal((await mfaVerify(app, mfaToken, 'aaaa-bbbb-cccc-dddd')).statusCode, 400, 'a wrong recovery code is answered, not throttled')
  const recovered = await mfaVerify(app, mfaToken, recoveryCodes[0]!)
  t.equal(recovered.statusCode, 200, 'a recovery code works while TOTP codes are throttled')
  clock.steps(1)
  const next = (await firstFactor(app, email)).json()
  t.equal((await mfaVerify(app, next.mfaToken, totpCode(otpauthUri, clock.ms()))).statusCode, 200, 'and it ended the throttling')
  clock.steps(1)
  const other = await enrolledUser(app, clock)
  t.equal((await totpLogin(app, { email: other.email, code: totpCode(other.otpauthUri, clock.ms()) })).statusCode, 200, 'another user is not throttled')
})

// Security round 3, point 8: anyone who knows the address can guess at POST /v1/auth/totp; only the holder of the
// email or SMS code reaches the second factor
t.test('wrong codes as the only factor never throttle nor suspend the app as the second factor; the MFA step offers what works', async (t) => {
  const clock = manualClock()
  const env = { ...REPEAT_LOGIN_ENV, ...PRIMARY_ENV, TOTP_THROTTLE_AFTER_FAILURES: '100', SUSPEND_AFTER_FAILURES: '10' }
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env })
  const { email, otpauthUri, recoveryCodes } = await enrolledUser(app, clock)
  for (let failure = 0; failure < 10; failure++) {
    t.equal((await totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms(), 5) })).statusCode, 400)
  }
  const refused = await totpLogin(app, { email, code: totpCode(otpauthUri, clock.ms()) })
  t.match([refused.statusCode, refused.json().code], [403, 'login_suspended'], 'the first factor is suspended')
  const step = (await firstFactor(app, email)).json()
  t.match(step, { mfaRequired: true, methods: ['totp', 'recovery'] })
  const done = await mfaVerify(app, step.mfaToken, totpCode(otpauthUri, clock.ms()))
  t.equal(done.statusCode, 200, 'the app still completes an email sign-in')
  clock.steps(1)

  // the second factor's own suspension, by someone who holds the email code
  const guessed = (await firstFactor(app, email)).json()
  for (let failure = 0; failure < 10; failure++) {
    t.equal((await mfaVerify(app, guessed.mfaToken, totpCode(otpauthUri, clock.ms(), 5))).statusCode, 400)
  }
  const after = (await firstFactor(app, email)).json()
  t.same(after.methods, ['recovery'], 'only a method that can work is offered')
  t.equal((await mfaVerify(app, after.mfaToken, recoveryCodes[0]!)).statusCode, 200, 'and it works')
})

t.test('an mfaToken of an earlier version that offered recovery codes only still takes nothing else', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: REPEAT_LOGIN_ENV })
  const { session, otpauthUri, recoveryCodes } = await enrolledUser(app, clock)
  const mfaToken = await app.mfa.issue({ userId: session.user.id, kind: 'email', amr: ['otp'], recoveryOnly: true })
  const refused = await mfaVerify(app, mfaToken, totpCode(otpauthUri, clock.ms()))
  t.match([refused.statusCode, refused.json().code], [403, 'login_suspended'])
  t.equal((await mfaVerify(app, mfaToken, recoveryCodes[0]!)).statusCode, 200, 'a recovery code completes it')
})

t.test('the embedded mode works the same way', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, stores: 'memory', env: { ...REPEAT_LOGIN_ENV, ...PRIMARY_ENV } })
  const { email, otpauthUri, recoveryCodes } = await enrolledUser(app, clock)
  const code = totpCode(otpauthUri, clock.ms())
  t.equal((await totpLogin(app, { email, code })).statusCode, 200)
  t.equal((await totpLogin(app, { email, code })).statusCode, 400, 'replay refused')
  const done = await mfaVerify(app, (await firstFactor(app, email)).json().mfaToken, recoveryCodes[0]!)
  t.equal(done.statusCode, 200)
  t.equal((await mfaVerify(app, (await firstFactor(app, email)).json().mfaToken, recoveryCodes[0]!)).statusCode, 400)
})

t.test('bodies are validated', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: PRIMARY_ENV })
  for (const payload of [{ email: newEmail(), code: 'abcd-efgh-ijkl-mnop' }, { code: '123456' }, { email: newEmail(), code: '123456', extra: 1 }]) {
    const response = await totpLogin(app, payload)
    t.equal(response.statusCode, 400, JSON.stringify(payload))
    t.equal(response.json().code, 'validation_failed')
  }
  for (const payload of [{ mfaToken: 'short', code: '123456' }, { mfaToken: 'A'.repeat(43), code: '12345' }]) {
    const response = await app.inject({ method: 'POST', url: '/v1/auth/mfa/verify', payload })
    t.equal(response.json().code, 'validation_failed', JSON.stringify(payload))
  }
})
