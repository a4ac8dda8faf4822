import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, codeFromOutbox, deliveriesSettled, login, newEmail, startLogin } from '../helpers/login.ts'
import { REPEAT_LOGIN_ENV } from '../helpers/totp.ts'

// Security round 3, point 4: anyone can spend an address's daily quota; a device that signed in before, and a
// signed-in user's step-up, have a budget of their own
const SMALL_QUOTA = { ...REPEAT_LOGIN_ENV, OTP_DAILY_QUOTA: '3', OTP_SEND_QUOTA: '100' }
const APP = 'http://localhost:5173'

const verify = (app: FastifyInstance, challengeId: string, code: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/v1/auth/otp/verify', headers, payload: { challengeId, code } })

/** Spends the anonymous budget of `email` until a request is refused; answers the refusal. */
async function spend (app: FastifyInstance, email: string): Promise<LightMyRequestResponse> {
  for (let sent = 0; sent < 10; sent++) {
    const start = await startLogin(app, { email })
    // delivered before anything else is asked for: the newest code in the outbox is then the next request's
    if (start.statusCode !== 202) return await deliveriesSettled(app).then(() => start)
  }
  throw new Error('the anonymous budget never ran out')
}

t.test('a device that signed in gets a token; its code requests are not refused when anyone spent the address\'s quota', async (t) => {
  const app = await buildTestApp(t, { limiter: false, loadShedding: false, outbox: true, env: SMALL_QUOTA })
  const email = newEmail('owner')
  const session = await login(app, { email }) as Awaited<ReturnType<typeof login>> & { deviceToken?: string }
  t.match(session.deviceToken, /^d1\.\d{10}\.[\w-]{43}$/, 'a native sign-in answers a device token')
  const refused = await spend(app, email)
  t.equal(refused.statusCode, 429, 'the anonymous budget is spent')
  t.equal(refused.headers['retry-after'], '86400')

  const owner = await startLogin(app, { email, deviceToken: session.deviceToken })
  t.equal(owner.statusCode, 202, 'the owner\'s device still gets a code')
  const signedIn = await verify(app, owner.json().challengeId, await codeFromOutbox(app, email))
  t.equal(signedIn.statusCode, 200, 'and signs in with it')

  const stepUp = await app.inject({ method: 'POST', url: '/v1/me/reauth', headers: bearer(signedIn.json().accessToken), payload: {} })
  t.equal(stepUp.statusCode, 202, 'a signed-in user\'s step-up code is not refused either')

  const other = await login(app, { email: newEmail('other') }) as { deviceToken?: string }
  t.equal((await startLogin(app, { email, deviceToken: other.deviceToken })).statusCode, 429, 'another account\'s device token is anyone\'s')
  const forged = `${session.deviceToken!.slice(0, -4)}AAAA`
  t.equal((await startLogin(app, { email, deviceToken: forged })).statusCode, 429, 'so is a forged one')
  t.equal((await startLogin(app, { email, deviceToken: 'nonsense' })).statusCode, 400, 'a malformed one is a bad request')
})

t.test('with cookie sessions browsers get the device token in an httpOnly cookie for the code routes only, honoured from an allowed Origin', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', limiter: false, loadShedding: false, outbox: true, env: { ...SMALL_QUOTA, CORS_ORIGINS: APP, SESSION_COOKIE: 'on' } })
  const email = newEmail('browser')
  const start = await startLogin(app, { email })
  const signedIn = await verify(app, start.json().challengeId, await codeFromOutbox(app, email), { origin: APP })
  t.equal(signedIn.statusCode, 200)
  t.notOk('deviceToken' in signedIn.json(), 'not in the body, where the page\'s scripts would read it')
  type Cookie = { name: string, value: string, path?: string, httpOnly?: boolean, maxAge?: number }
  const cookie = (signedIn.cookies as Cookie[])
    .find((entry) => /otp-gate-device$/.test(entry.name))
  t.match(cookie, { httpOnly: true, path: '/v1/auth/otp', maxAge: 7_776_000 }, 'httpOnly, for the code routes, 90 days')
  t.notOk('/v1/auth/token/refresh'.startsWith(`${cookie?.path}/`), 'no other route gets it')

  await spend(app, email)
  const headers = { cookie: `${cookie?.name}=${cookie?.value}` }
  const fromPage = await app.inject({ method: 'POST', url: '/v1/auth/otp', headers: { ...headers, origin: APP }, payload: { email } })
  t.equal(fromPage.statusCode, 202, 'the page\'s request carries the cookie: the owner\'s budget')
  const fromElsewhere = await app.inject({ method: 'POST', url: '/v1/auth/otp', headers: { ...headers, origin: 'https://evil.example' }, payload: { email } })
  t.equal(fromElsewhere.statusCode, 429, 'another site\'s form post does not get to use it')
})
