import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer } from '../helpers/login.ts'
import { claimsOf, enrolledUser, firstFactor, manualClock } from '../helpers/totp.ts'
import { addPasskey, newAuthenticator, PASSKEY_ENV, signInOptions, verifyPasskey } from '../helpers/passkeys.ts'

const mfaOptions = (app: Awaited<ReturnType<typeof buildTestApp>>, mfaToken: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/mfa/passkey/options', payload: { mfaToken } })
const mfaVerify = (app: Awaited<ReturnType<typeof buildTestApp>>, mfaToken: string, credential: unknown) =>
  app.inject({ method: 'POST', url: '/v1/auth/mfa/passkey/verify', payload: { mfaToken, credential } })

t.test('after a code, a user with an authenticator app and a passkey may complete the login with the passkey', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, {
    loadShedding: false, outbox: true, limiter: false, now: clock.now, env: PASSKEY_ENV
  })
  const { email, session } = await enrolledUser(app, clock)
  const before = (await firstFactor(app, email)).json()
  t.same(before.methods, ['totp', 'recovery'], 'no passkey yet: no webauthn')
  t.equal((await mfaOptions(app, before.mfaToken)).statusCode, 404, 'no passkey: no options')

  const authenticator = newAuthenticator()
  t.equal((await addPasskey(app, session.accessToken, authenticator)).statusCode, 201)
  const challenge = (await firstFactor(app, email)).json()
  t.match(challenge, { mfaRequired: true, methods: ['totp', 'recovery', 'webauthn'] })

  const options = await mfaOptions(app, challenge.mfaToken)
  t.equal(options.statusCode, 200, options.body)
  t.same(options.json().allowCredentials.map((entry: { id: string }) => entry.id), [authenticator.credentials[0]!.id.toString('base64url')], 'only the user\'s passkeys')

  // options of a passkey sign-in are not the second factor's, nor are another mfaToken's
  const signInAnswer = await mfaVerify(app, challenge.mfaToken, authenticator.get(await signInOptions(app)))
  t.equal(signInAnswer.statusCode, 401)
  t.equal(signInAnswer.json().code, 'invalid_passkey')
  const other = (await firstFactor(app, email)).json()
  const optionsOf = async (mfaToken: string) => (await mfaOptions(app, mfaToken)).json()
  const otherAnswer = await mfaVerify(app, challenge.mfaToken, authenticator.get(await optionsOf(other.mfaToken)))
  t.equal(otherAnswer.statusCode, 401, 'bound to the mfaToken')

  const done = await mfaVerify(app, challenge.mfaToken, authenticator.get(await optionsOf(challenge.mfaToken)))
  t.equal(done.statusCode, 200, 'a refused passkey left the mfaToken usable: ' + done.body)
  t.same(claimsOf(done.json().accessToken).amr, ['otp', 'webauthn', 'mfa'])
  const reused = await mfaVerify(app, challenge.mfaToken, authenticator.get(await optionsOf(other.mfaToken)))
  t.equal(reused.statusCode, 410, 'the mfaToken works once')
  t.equal((await mfaOptions(app, 'A'.repeat(43))).statusCode, 410)

  // a passkey alone skips the TOTP step
  const alone = await verifyPasskey(app, authenticator.get(await signInOptions(app)))
  t.equal(alone.statusCode, 200)
  t.same(claimsOf(alone.json().accessToken).amr, ['webauthn'])
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(alone.json().accessToken) })).statusCode, 200)
})

t.test('refused passkeys are throttled as wrong codes are: per credential and per client IP', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, limiter: false, env: { ...PASSKEY_ENV, OTP_THROTTLE_AFTER_FAILURES: '2' } })
  const stranger = newAuthenticator()
  stranger.create({ rp: { id: 'example.org', name: 'x' }, user: { id: 'dXNlcg', name: 'u', displayName: 'u' }, challenge: 'Y2hhbGxlbmdlY2hhbGxlbmdl', pubKeyCredParams: [] })
  const codes: number[] = []
  for (let attempt = 0; attempt < 5; attempt++) {
    codes.push((await verifyPasskey(app, stranger.get(await signInOptions(app)))).statusCode)
  }
  t.same(codes.slice(0, 3), [401, 401, 401], 'two free failures, the third starts a wait')
  const throttled = await verifyPasskey(app, stranger.get(await signInOptions(app)))
  t.equal(throttled.statusCode, 429)
  t.equal(throttled.json().code, 'rate_limited')
  t.ok(Number(throttled.headers['retry-after']) >= 1, 'with Retry-After')
})
