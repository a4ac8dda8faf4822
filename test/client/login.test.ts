import t from 'tap'
import { createClient, memoryStorage, OtpGateError, type AuthChangeEvent } from '../../client/src/index.ts'
import { listeningApp, MODES } from '../helpers/client.ts'
import { codeFromOutbox, newEmail, outboxOf } from '../helpers/login.ts'
import { claimsOf, manualClock, REPEAT_LOGIN_ENV, totpCode } from '../helpers/totp.ts'

/** The OtpGateError the call fails with. */
async function rejection (promise: Promise<unknown>): Promise<OtpGateError> {
  const error = await promise.then(() => new Error('expected a rejection'), (error: unknown) => error)
  if (!(error instanceof OtpGateError)) throw error
  return error
}

for (const stores of MODES) {
  t.test(`${stores} stores: sign in by email, use the session, refresh, log out`, async (t) => {
    const { app, baseUrl } = await listeningApp(t, { stores, loadShedding: false, outbox: true })
    const storage = memoryStorage()
    const client = createClient({ baseUrl, storage })
    const events: AuthChangeEvent[] = []
    client.onAuthChange((event) => events.push(event))
    const email = newEmail('client')

    t.equal(await client.auth.isSignedIn(), false)
    const challenge = await client.auth.startOtp({ email }, { locale: 'en' })
    t.match(challenge, { challengeId: /^[0-9a-f]{4}\./, channel: 'email', destination: /\*/ })
    const code = await codeFromOutbox(app, email)

    const wrong = await rejection(client.auth.verifyOtp(challenge.challengeId, code === '000000' ? '111111' : '000000'))
    t.match(wrong, { code: 'invalid_code', status: 400, remainingAttempts: 4 }, 'a wrong code is a typed error a UI can show')
    t.same(events, [], 'no sign-in yet')

    const signedIn = await client.auth.verifyOtp(challenge.challengeId, code)
    if (signedIn.mfaRequired) throw new Error('no second factor expected')
    t.equal(signedIn.user.email, email)
    t.same(events, [{ type: 'signed_in', user: signedIn.user }])
    t.equal(await client.auth.isSignedIn(), true)

    t.equal((await client.me.get()).id, signedIn.user.id)
    t.match(await client.me.update({ name: 'Jane', locale: 'fr' }), { name: 'Jane', locale: 'fr' })
    const [current, ...others] = await client.me.sessions()
    t.match(current, { current: true, amr: ['otp'] })
    t.same(others, [], 'one session')

    const before = await storage.get()
    await client.auth.refresh()
    t.not((await storage.get())?.refreshToken, before?.refreshToken, 'refresh() rotates the pair')
    t.same(events.at(-1), { type: 'refreshed' })
    t.equal((await client.me.get()).name, 'Jane', 'the new pair works')

    await client.auth.logout()
    t.same(events.at(-1), { type: 'signed_out', reason: 'logout' })
    t.equal(await client.auth.isSignedIn(), false)
    t.match(await rejection(client.me.get()), { code: 'not_signed_in', status: 401 })
    const stale = await fetch(`${baseUrl}/v1/me`, { headers: { authorization: `Bearer ${before?.accessToken}` } })
    t.equal(stale.status, 401, 'the session is over on the server too')
  })

  t.test(`${stores} stores: verifyFromUrl signs in from a magic link's fragment, once`, async (t) => {
    const { app, baseUrl } = await listeningApp(t, { stores, loadShedding: false, outbox: true })
    const client = createClient({ baseUrl, storage: memoryStorage() })
    const email = newEmail('magic')
    const { challengeId } = await client.auth.startOtp({ email })
    const link = `https://app.example/auth/callback#challengeId=${challengeId}&code=${await codeFromOutbox(app, email)}`
    t.equal(await client.auth.verifyFromUrl('https://app.example/auth/callback'), null, 'no link in the URL')
    const signedIn = await client.auth.verifyFromUrl(link)
    t.match(signedIn, { mfaRequired: false, user: { email } })
    t.equal(await client.auth.isSignedIn(), true)
    t.match(await rejection(client.auth.verifyFromUrl(link)), { code: 'challenge_expired', status: 410 }, 'the link works once')
  })

  t.test(`${stores} stores: undoIdentifierChangeFromUrl takes an email change back from the notice's link, once`, async (t) => {
    const undoUrl = 'https://app.example/account/undo'
    const env = { IDENTIFIER_UNDO_URL: undoUrl }
    const { app, baseUrl } = await listeningApp(t, { stores, loadShedding: false, outbox: true, env })
    const client = createClient({ baseUrl, storage: memoryStorage() })
    const email = newEmail('client-undo')
    const newAddress = newEmail('client-undo-new')
    const { challengeId } = await client.auth.startOtp({ email })
    await client.auth.verifyOtp(challengeId, await codeFromOutbox(app, email))
    const contact = await client.me.addContact({ email: newAddress })
    await client.me.verifyContact(contact.challengeId, await codeFromOutbox(app, newAddress))
    const notice = (await outboxOf(app, email)).json().messages[0] as { text: string }
    const link = notice.text.split(/\s/).find((word) => word.startsWith(`${undoUrl}#token=`)) ?? ''
    t.equal(await client.auth.undoIdentifierChangeFromUrl(undoUrl), null, 'no token in the URL')
    t.equal(await client.auth.undoIdentifierChangeFromUrl(link), true)
    t.equal(await client.auth.isSignedIn(), false, 'every session ended, this one too')
    t.equal((await app.users.findByIdentifier('email', email))?.email, email, 'the old email is back')
    const again = await rejection(client.auth.undoIdentifierChangeFromUrl(link))
    t.match(again, { code: 'undo_link_invalid', status: 410 }, 'the link works once')
  })

  t.test(`${stores} stores: an authenticator app, then a sign-in that asks for it`, async (t) => {
    const clock = manualClock()
    const { app, baseUrl } = await listeningApp(t, {
      stores, loadShedding: false, outbox: true, now: clock.now, env: REPEAT_LOGIN_ENV
    })
    const client = createClient({ baseUrl })
    const email = newEmail('client-mfa')
    const signIn = async () => {
      const { challengeId } = await client.auth.startOtp({ email })
      return client.auth.verifyOtp(challengeId, await codeFromOutbox(app, email))
    }

    t.match(await signIn(), { mfaRequired: false })
    t.match(await client.me.totp.status(), { status: 'none' })
    const { otpauthUri, qrCode } = await client.me.totp.start()
    t.match(qrCode, /^data:image\/png;base64,/)
    t.match(await rejection(client.me.totp.confirm(totpCode(otpauthUri, clock.ms(), 5))), { code: 'invalid_code' })
    const recoveryCodes = await client.me.totp.confirm(totpCode(otpauthUri, clock.ms()))
    t.equal(recoveryCodes.length, 10)
    t.match(await client.me.totp.status(), { status: 'active', recoveryCodesLeft: 10 })
    clock.steps(1)
    await client.auth.logout()

    const events: AuthChangeEvent[] = []
    client.onAuthChange((event) => events.push(event))
    const step = await signIn()
    if (!step.mfaRequired) throw new Error('a second factor was expected')
    t.same(step.methods.toSorted(), ['recovery', 'totp'])
    t.equal(await client.auth.isSignedIn(), false, 'not signed in before the second factor')
    t.same(events, [])

    const user = await client.auth.verifyMfa(step.mfaToken, totpCode(otpauthUri, clock.ms()))
    t.equal(user.email, email)
    t.match(events, [{ type: 'signed_in', user: { email } }])
    t.same(claimsOf(await client.auth.getAccessToken() ?? '').amr, ['otp', 'totp', 'mfa'])
    clock.steps(1)

    const fresh = await client.me.totp.regenerateRecoveryCodes(totpCode(otpauthUri, clock.ms()))
    t.not(fresh[0], recoveryCodes[0], 'new recovery codes')
    await client.me.totp.remove(fresh[0] ?? '')
    t.match(await client.me.totp.status(), { status: 'none' })
  })
}

t.test('errors carry what a UI shows: retryAfter of a cooldown, the fields of a validation problem', async (t) => {
  const { baseUrl } = await listeningApp(t, { stores: 'memory', loadShedding: false })
  const client = createClient({ baseUrl })
  const email = newEmail('client-errors')
  await client.auth.startOtp({ email })
  const cooldown = await rejection(client.auth.startOtp({ email }))
  t.match(cooldown, { code: 'cooldown', status: 429, detail: String })
  t.ok(cooldown.retryAfter !== undefined && cooldown.retryAfter > 0 && cooldown.retryAfter <= 30, `retryAfter in seconds (${cooldown.retryAfter})`)
  t.ok(cooldown.requestId, 'the request id, for support')

  const invalid = await rejection(client.auth.startOtp({ email: 'not an email' }))
  t.match(invalid, { code: 'validation_failed', status: 400, detail: /spaces/, fields: [{ field: 'body.email', message: String }] })

  const offline = createClient({ baseUrl: 'http://127.0.0.1:9' })
  t.match(await rejection(offline.auth.startOtp({ email })), { code: 'network_error', status: 0 }, 'no answer at all is an OtpGateError too')
})
