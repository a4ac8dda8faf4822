import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail, outboxOf } from '../helpers/login.ts'
import { claimsOf, manualClock } from '../helpers/totp.ts'
import { addPasskey, newAuthenticator, PASSKEY_ENV, signInOptions, verifyPasskey } from '../helpers/passkeys.ts'

const options = { loadShedding: false, outbox: true, limiter: false, env: PASSKEY_ENV }

t.test('without WEBAUTHN_RP_ID every passkey route answers 404', async (t) => {
  const app = await buildTestApp(t, { ...options, env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } })
  const session = await login(app, { email: newEmail() })
  for (const [method, url] of [
    ['POST', '/v1/me/passkeys/options'], ['POST', '/v1/me/passkeys'], ['GET', '/v1/me/passkeys'], ['PATCH', '/v1/me/passkeys/x'],
    ['DELETE', '/v1/me/passkeys/x'], ['POST', '/v1/auth/passkey/options'], ['POST', '/v1/auth/passkey/verify'],
    ['POST', '/v1/auth/mfa/passkey/options'], ['POST', '/v1/auth/mfa/passkey/verify']
  ] as const) {
    const response = await app.inject({ method, url, headers: bearer(session.accessToken), payload: {} })
    t.equal(response.statusCode, 404, `${method} ${url}`)
  }
})

t.test('a user adds a passkey after a code sign-in, then signs in with it alone', async (t) => {
  const app = await buildTestApp(t, options)
  const email = newEmail()
  const session = await login(app, { email })
  const headers = bearer(session.accessToken)
  const authenticator = newAuthenticator()

  const creation = await app.inject({ method: 'POST', url: '/v1/me/passkeys/options', headers })
  t.equal(creation.statusCode, 200)
  t.match(creation.json(), {
    rp: { id: 'example.org', name: 'otp-gate' },
    challenge: /^[A-Za-z0-9_-]{20,}$/,
    attestation: 'none',
    excludeCredentials: [],
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' }
  })
  const added = await app.inject({ method: 'POST', url: '/v1/me/passkeys', headers, payload: { credential: authenticator.create(creation.json()), name: 'Laptop' } })
  t.equal(added.statusCode, 201, added.body)
  const passkey = added.json()
  t.same(Object.keys(passkey).sort(), ['createdAt', 'id', 'lastUsedAt', 'name'], 'never the key')
  t.match(passkey, { name: 'Laptop', lastUsedAt: null })

  const again = await app.inject({ method: 'POST', url: '/v1/me/passkeys/options', headers })
  t.same(again.json().excludeCredentials.map((entry: { id: string }) => entry.id), [authenticator.credentials[0]!.id.toString('base64url')], 'the user\'s own are excluded')

  const request = await signInOptions(app)
  t.equal(request.allowCredentials, undefined, 'discoverable: no allow list')
  t.equal(request.rpId, 'example.org')
  const signedIn = await verifyPasskey(app, authenticator.get(request))
  t.equal(signedIn.statusCode, 200, signedIn.body)
  t.match(signedIn.json(), { tokenType: 'Bearer', refreshToken: String, user: { id: session.user.id, email } })
  t.same(claimsOf(signedIn.json().accessToken).amr, ['webauthn'], 'no MFA step after a passkey')

  const list = await app.inject({ method: 'GET', url: '/v1/me/passkeys', headers })
  t.equal(list.json().passkeys.length, 1)
  t.type(list.json().passkeys[0].lastUsedAt, 'string', 'the sign-in is recorded')
  const renamed = await app.inject({ method: 'PATCH', url: `/v1/me/passkeys/${passkey.id}`, headers, payload: { name: 'Phone' } })
  t.equal(renamed.json().name, 'Phone')
  t.equal((await app.inject({ method: 'PATCH', url: '/v1/me/passkeys/nope', headers, payload: { name: 'x' } })).statusCode, 404)

  const activity = await app.inject({ method: 'GET', url: '/v1/me/activity', headers })
  const types = activity.json().events.map((event: { type: string, reason: string | null }) => `${event.type}:${event.reason ?? ''}`)
  t.ok(types.includes('authenticator_added:passkey'), 'the addition is a security event')
  const messages = (await outboxOf(app, email)).json().messages as Array<{ text: string }>
  t.ok(messages.some((message) => message.text.includes('A passkey was added to your otp-gate account')), 'the owner is told')
})

t.test('adding and removing need a recent sign-in or a step-up proof; removal ends passkey sign-in', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { ...options, now: clock.now })
  const session = await login(app, { email: newEmail() })
  const headers = bearer(session.accessToken)
  const authenticator = newAuthenticator()
  t.equal((await addPasskey(app, session.accessToken, authenticator)).statusCode, 201)
  const { passkeys: [passkey] } = (await app.inject({ method: 'GET', url: '/v1/me/passkeys', headers })).json()

  clock.advance(6 * 60_000)
  const late = await app.inject({ method: 'POST', url: '/v1/me/passkeys/options', headers })
  t.equal(late.statusCode, 403)
  t.equal(late.json().code, 'reauthentication_required')
  const refused = await app.inject({ method: 'DELETE', url: `/v1/me/passkeys/${passkey.id}`, headers })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'reauthentication_required')

  const fresh = await login(app, { email: session.user.email as string })
  const removed = await app.inject({ method: 'DELETE', url: `/v1/me/passkeys/${passkey.id}`, headers: bearer(fresh.accessToken) })
  t.equal(removed.statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/me/passkeys/${passkey.id}`, headers: bearer(fresh.accessToken) })).statusCode, 404)
  const gone = await verifyPasskey(app, authenticator.get(await signInOptions(app)))
  t.equal(gone.statusCode, 401)
  t.equal(gone.json().code, 'invalid_passkey', 'a removed passkey is an unknown one')
})

t.test('each refusal of a passkey sign-in is 401 invalid_passkey', async (t) => {
  const app = await buildTestApp(t, options)
  const session = await login(app, { email: newEmail() })
  const authenticator = newAuthenticator()
  t.equal((await addPasskey(app, session.accessToken, authenticator)).statusCode, 201)
  const refusal = async (name: string, credential: unknown) => {
    const response = await verifyPasskey(app, credential)
    t.equal(response.statusCode, 401, name)
    t.equal(response.json().code, 'invalid_passkey', name)
  }
  await refusal('another origin', authenticator.get(await signInOptions(app), { origin: 'https://evil.example.net' }))
  await refusal('another RP ID', authenticator.get(await signInOptions(app), { rpId: 'evil.example.net' }))
  await refusal('a challenge never issued', authenticator.get(await signInOptions(app), { challenge: 'A'.repeat(43) }))
  await refusal('a wrong signature', authenticator.get(await signInOptions(app), { wrongKey: true }))
  // a credential of this site the server never stored
  const stranger = newAuthenticator()
  stranger.create({ rp: { id: 'example.org', name: 'x' }, user: { id: 'dXNlcg', name: 'u', displayName: 'u' }, challenge: 'Y2hhbGxlbmdlY2hhbGxlbmdl', pubKeyCredParams: [] })
  await refusal('an unknown credential', stranger.get(await signInOptions(app)))
  // one that keeps no counter (always 0), so only the challenge can tell a replay
  const counterless = newAuthenticator(false)
  t.equal((await addPasskey(app, session.accessToken, counterless)).statusCode, 201)
  const answer = counterless.get(await signInOptions(app))
  t.equal((await verifyPasskey(app, answer)).statusCode, 200, 'the right answer signs in')
  await refusal('a replayed challenge', answer)
  t.equal((await verifyPasskey(app, counterless.get(await signInOptions(app)))).statusCode, 200, 'a counter of 0 is no counter')
  // the stored counter moves to this authenticator's (about 7) with a sign-in; 1 is then backwards
  t.equal((await verifyPasskey(app, authenticator.get(await signInOptions(app)))).statusCode, 200)
  await refusal('a counter that went backwards', authenticator.get(await signInOptions(app), { counter: 1 }))
  await refusal('no user verification for a passkey alone', authenticator.get(await signInOptions(app), { userVerified: false }))
  t.equal((await verifyPasskey(app, authenticator.get(await signInOptions(app)))).statusCode, 200, 'the passkey still works')
})

t.test('with SESSION_COOKIE=on a browser\'s passkey sign-in gets the refresh token in the cookie', async (t) => {
  const env = { ...PASSKEY_ENV, SESSION_COOKIE: 'on', CORS_ORIGINS: 'https://app.example.org' }
  const app = await buildTestApp(t, { ...options, env })
  const session = await login(app, { email: newEmail() })
  const authenticator = newAuthenticator()
  t.equal((await addPasskey(app, session.accessToken, authenticator)).statusCode, 201)
  const credential = authenticator.get(await signInOptions(app))
  const signedIn = await app.inject({
    method: 'POST', url: '/v1/auth/passkey/verify', headers: { origin: 'https://app.example.org' }, payload: { credential }
  })
  t.equal(signedIn.statusCode, 200)
  t.equal(signedIn.json().refreshToken, undefined, 'not in the body')
  t.match(String(signedIn.headers['set-cookie']), /HttpOnly/)
})
