import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, codeFromOutbox, login, newEmail, outboxOf } from '../helpers/login.ts'
import { REPEAT_LOGIN_ENV, enrolledUser, manualClock, totpCode } from '../helpers/totp.ts'

// Security round 3, point 1: an access token alone (it may be stolen) must not bind an authenticator app, which
// would be a permanent way in. Binding needs the proof an identifier change needs, the account is told, and an app
// added in the last 7 days can be removed by the owner with a code to their own email, no code of the app needed.
const PAST_REAUTH_WINDOW_STEPS = 11 // 330 s in 30 s steps: the token's sign-in is no longer recent

type Clock = ReturnType<typeof manualClock>

async function startEnrolment (app: FastifyInstance, headers: Record<string, string>) {
  const enrolment = await app.inject({ method: 'POST', url: '/v1/me/totp', headers })
  if (enrolment.statusCode !== 200) throw new Error(`enrolment answered ${enrolment.statusCode}: ${enrolment.body}`)
  return enrolment.json().otpauthUri as string
}

/** The step-up: a code to the account's own email, exchanged for a reauthToken bound to this session. */
async function stepUp (app: FastifyInstance, headers: Record<string, string>, email: string): Promise<string> {
  const started = await app.inject({ method: 'POST', url: '/v1/me/reauth', headers, payload: {} })
  if (started.statusCode !== 202) throw new Error(`reauth answered ${started.statusCode}: ${started.body}`)
  const code = await codeFromOutbox(app, email)
  const proof = await app.inject({ method: 'POST', url: '/v1/me/reauth/verify', headers, payload: { challengeId: started.json().challengeId, code } })
  if (proof.statusCode !== 200) throw new Error(`reauth verify answered ${proof.statusCode}: ${proof.body}`)
  return proof.json().reauthToken as string
}

const noticesTo = async (app: FastifyInstance, email: string) =>
  ((await outboxOf(app, email)).json().messages as Array<{ code: string, text: string }>).filter((message) => message.code === '')

const status = async (app: FastifyInstance, headers: Record<string, string>) =>
  (await app.inject({ method: 'GET', url: '/v1/me/totp', headers })).json().status as string

async function appWithClock (t: Test, clock: Clock, env: Record<string, string> = {}) {
  return buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: { ...REPEAT_LOGIN_ENV, ...env } })
}

t.test('a token 330 s past its sign-in cannot bind an authenticator app, over HTTP', async (t) => {
  const clock = manualClock()
  const app = await appWithClock(t, clock, { TOTP_PRIMARY_LOGIN: 'true' })
  const email = newEmail('stolen')
  const { accessToken } = await login(app, { email })
  const stolen = bearer(accessToken)
  clock.steps(PAST_REAUTH_WINDOW_STEPS)

  const otpauthUri = await startEnrolment(app, stolen)
  const refused = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers: stolen, payload: { code: totpCode(otpauthUri, clock.ms()) } })
  t.equal(refused.statusCode, 403, 'no proof, no binding')
  t.equal(refused.json().code, 'reauthentication_required')
  t.notOk('recoveryCodes' in refused.json(), 'no recovery codes handed out')
  t.equal(await status(app, stolen), 'pending', 'the app is not active')
  const forged = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers: stolen, payload: { code: totpCode(otpauthUri, clock.ms()), reauthToken: `${Math.floor(clock.ms() / 1000) + 60}.${'A'.repeat(43)}` } })
  t.equal(forged.statusCode, 403, 'a forged proof binds nothing either')

  // and so the attacker's app is no way in
  clock.steps(1)
  const login2 = await app.inject({ method: 'POST', url: '/v1/auth/totp', payload: { email, code: totpCode(otpauthUri, clock.ms()) } })
  t.not(login2.statusCode, 200, 'the attacker\'s app does not sign in')
  t.same(await noticesTo(app, email), [], 'nothing was added, nothing told')
})

t.test('within 5 minutes of sign-in, or with a step-up code, the app is bound and the account is told', async (t) => {
  const clock = manualClock()
  const app = await appWithClock(t, clock)

  const fresh = await enrolledUser(app, clock)
  t.equal(await status(app, fresh.headers), 'active', 'a recent sign-in is proof enough')
  const [notice, ...more] = await noticesTo(app, fresh.email)
  t.same(more, [], 'one notice')
  t.match(notice?.text, /authenticator app was just added/, 'the account\'s email hears of it')
  t.match(notice?.text, /within 7 days/, 'with how long the owner can undo it')
  t.notMatch(notice?.text, /\b\d{6}\b/, 'with no code in it')

  const email = newEmail('stepped')
  const { accessToken } = await login(app, { email })
  const headers = bearer(accessToken)
  clock.steps(PAST_REAUTH_WINDOW_STEPS)
  const otpauthUri = await startEnrolment(app, headers)
  const reauthToken = await stepUp(app, headers, email)
  const confirmed = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers, payload: { code: totpCode(otpauthUri, clock.ms()), reauthToken } })
  t.equal(confirmed.statusCode, 200, confirmed.body)
  t.equal(confirmed.json().recoveryCodes.length, 10)
  t.equal((await noticesTo(app, email)).length, 1, 'told once')
})

t.test('the owner removes an app added in the last 7 days with a step-up code, and no code of the app', async (t) => {
  const clock = manualClock()
  const app = await appWithClock(t, clock, { MFA: 'off' })
  const { email } = await enrolledUser(app, clock)
  clock.steps(2 * 24 * 120) // two days later, the owner reads the notice

  const owner = bearer((await login(app, { email })).accessToken)
  const elsewhere = bearer((await login(app, { email })).accessToken)
  clock.steps(PAST_REAUTH_WINDOW_STEPS)
  const forged = await app.inject({ method: 'DELETE', url: '/v1/me/totp', headers: owner, payload: { reauthToken: `${Math.floor(clock.ms() / 1000) + 60}.${'A'.repeat(43)}` } })
  t.equal(forged.statusCode, 403, 'a forged proof removes nothing')
  t.equal(forged.json().code, 'reauthentication_required')
  const otherSession = await stepUp(app, elsewhere, email)
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/me/totp', headers: owner, payload: { reauthToken: otherSession } })).statusCode, 403, 'a proof of another session removes nothing')
  t.equal(await status(app, owner), 'active')

  const reauthToken = await stepUp(app, owner, email)
  const removed = await app.inject({ method: 'DELETE', url: '/v1/me/totp', headers: owner, payload: { reauthToken } })
  t.equal(removed.statusCode, 204, removed.body)
  t.equal(await status(app, owner), 'none', 'the app is gone')

  const both = await app.inject({ method: 'DELETE', url: '/v1/me/totp', headers: owner, payload: { reauthToken, code: '123456' } })
  t.equal(both.statusCode, 400, 'a code or a proof, not both')
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/me/totp', headers: owner, payload: {} })).statusCode, 400, 'and not neither')
})

t.test('an app older than 7 days needs one of its own codes to be removed', async (t) => {
  const clock = manualClock()
  const app = await appWithClock(t, clock, { MFA: 'off' })
  const { email, otpauthUri } = await enrolledUser(app, clock)
  clock.steps(8 * 24 * 120)

  const owner = bearer((await login(app, { email })).accessToken)
  const reauthToken = await stepUp(app, owner, email)
  const refused = await app.inject({ method: 'DELETE', url: '/v1/me/totp', headers: owner, payload: { reauthToken } })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'reauthentication_required')
  t.match(refused.json().detail, /more than 7 days ago/)
  t.equal(await status(app, owner), 'active', 'still there')
  const removed = await app.inject({ method: 'DELETE', url: '/v1/me/totp', headers: owner, payload: { code: totpCode(otpauthUri, clock.ms()) } })
  t.equal(removed.statusCode, 204, 'with a code of the app it goes')
})
