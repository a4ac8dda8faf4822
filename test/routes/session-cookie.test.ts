import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, codeFromOutbox, newEmail, startLogin } from '../helpers/login.ts'
import { REPEAT_LOGIN_ENV, enrolledUser, firstFactor, manualClock, totpCode } from '../helpers/totp.ts'

const APP = 'http://localhost:5173'
const COOKIE_ENV = { SESSION_COOKIE: 'on', CORS_ORIGINS: APP }
const REFRESH = '/v1/auth/token/refresh'

interface Cookie {
  name: string
  value: string
  path?: string
  maxAge?: number
  expires?: Date
  secure?: boolean
  httpOnly?: boolean
  sameSite?: string
}
const refreshCookieOf = (response: LightMyRequestResponse) =>
  (response.cookies as Cookie[]).find((cookie) => /otp-gate-refresh$/.test(cookie.name))
const sendBack = (cookie: Cookie | undefined) => ({ cookie: `${cookie?.name}=${cookie?.value}` })

/** A sign-in by email code, with the request headers given (an Origin, or none). */
async function signIn (app: FastifyInstance, headers: Record<string, string> = { origin: APP }) {
  const email = newEmail('cookie')
  const started = await startLogin(app, { email })
  const code = await codeFromOutbox(app, email)
  return app.inject({ method: 'POST', url: '/v1/auth/otp/verify', headers, payload: { challengeId: started.json().challengeId, code } })
}

t.test('a browser sign-in gets the refresh token in an httpOnly cookie, never in the body', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { ...COOKIE_ENV, PUBLIC_BASE_URL: 'https://auth.example.com' } })
  const signedIn = await signIn(app)
  t.equal(signedIn.statusCode, 200)
  const body = signedIn.json()
  t.type(body.accessToken, 'string', 'the access token stays in the body')
  t.notOk('refreshToken' in body, 'no refresh token in the body')
  const cookie = refreshCookieOf(signedIn)
  t.ok(cookie, 'a refresh cookie')
  t.equal(cookie?.name, '__Secure-otp-gate-refresh', 'the __Secure- prefix')
  t.match(cookie, { httpOnly: true, secure: true, sameSite: 'Lax' })
  // a browser sends a cookie to its Path and everything under it: the set must reach these routes and no other
  const cookies = (signedIn.cookies as Cookie[]).filter((each) => /otp-gate-refresh$/.test(each.name))
  t.same(cookies.map((each) => each.value), cookies.map(() => cookie?.value), 'every refresh cookie carries the one token')
  const reaches = (url: string) => cookies.some(({ path = '/' }) => url === path || url.startsWith(`${path.replace(/\/$/, '')}/`))
  for (const url of [REFRESH, '/v1/auth/logout', '/v1/auth/logout/all']) t.ok(reaches(url), `the cookie reaches ${url}`)
  for (const url of ['/v1/auth/otp', '/v1/auth/otp/verify', '/v1/auth/mfa/verify', '/v1/auth/totp', '/v1/me', '/v1/me/sessions', '/']) {
    t.notOk(reaches(url), `the cookie does not reach ${url}`)
  }
  const maxAge = cookie?.maxAge ?? 0
  t.ok(maxAge <= 7_776_000 && maxAge > 7_776_000 - 60, `Max-Age is the session's remaining absolute lifetime (${maxAge})`)
  t.match(String(signedIn.headers['set-cookie']), /HttpOnly/)
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: { origin: APP, ...bearer(body.accessToken) } })).statusCode, 200)

  const own = await signIn(app, { origin: 'https://auth.example.com' })
  t.ok(refreshCookieOf(own) && !('refreshToken' in own.json()), 'the API\'s own origin is a browser too')
})

t.test('Secure except on http://localhost; SameSite from SESSION_COOKIE_SAMESITE, none always Secure', async (t) => {
  const local = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: COOKIE_ENV })
  t.match(refreshCookieOf(await signIn(local)), { name: 'otp-gate-refresh', secure: undefined, sameSite: 'Lax', httpOnly: true }, 'development on localhost')
  const strict = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { ...COOKIE_ENV, SESSION_COOKIE_SAMESITE: 'strict' } })
  t.match(refreshCookieOf(await signIn(strict)), { sameSite: 'Strict' })
  const none = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { ...COOKIE_ENV, SESSION_COOKIE_SAMESITE: 'none' } })
  t.match(refreshCookieOf(await signIn(none)), { name: '__Secure-otp-gate-refresh', sameSite: 'None', secure: true })
})

t.test('refresh by cookie; a foreign, null or missing Origin is refused on refresh and logout', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: COOKIE_ENV })
  const signedIn = await signIn(app)
  const cookie = refreshCookieOf(signedIn)
  const { accessToken } = signedIn.json()
  for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }, {}] as Array<Record<string, string>>) {
    const name = headers.origin ?? 'no Origin'
    const refresh = await app.inject({ method: 'POST', url: REFRESH, headers: { ...headers, ...sendBack(cookie) } })
    t.equal(refresh.statusCode, 403, `${name}: refresh refused`)
    t.equal(refresh.json().code, 'origin_not_allowed')
    t.notOk(refreshCookieOf(refresh), `${name}: no cookie set`)
    const logout = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { ...headers, ...sendBack(cookie), ...bearer(accessToken) } })
    t.equal(logout.statusCode, 403, `${name}: logout refused`)
    t.equal(logout.json().code, 'origin_not_allowed')
  }
  const refreshed = await app.inject({ method: 'POST', url: REFRESH, headers: { origin: APP, ...sendBack(cookie) } })
  t.equal(refreshed.statusCode, 200, 'the allowed origin refreshes with the cookie alone')
  t.notOk('refreshToken' in refreshed.json(), 'the new refresh token is not in the body')
  const next = refreshCookieOf(refreshed)
  t.ok(next && next.value !== cookie?.value, 'but in a new cookie')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(refreshed.json().accessToken) })).statusCode, 200, 'the new access token works')
  const nothing = await app.inject({ method: 'POST', url: REFRESH, headers: { origin: APP } })
  t.equal(nothing.statusCode, 401, 'a browser without the cookie is not signed in')
  t.equal(nothing.json().code, 'unauthorized')
})

t.test('logout and logout-all clear the cookie and end the session', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { ...COOKIE_ENV, ...REPEAT_LOGIN_ENV } })
  for (const url of ['/v1/auth/logout', '/v1/auth/logout/all']) {
    const signedIn = await signIn(app)
    const cookie = refreshCookieOf(signedIn)
    const out = await app.inject({ method: 'POST', url, headers: { origin: APP, ...sendBack(cookie), ...bearer(signedIn.json().accessToken) } })
    t.equal(out.statusCode, 204, `${url}: 204`)
    const set = (response: LightMyRequestResponse) => (response.cookies as Cookie[]).filter((each) => /otp-gate-refresh$/.test(each.name))
    const cleared = set(out)
    t.same(cleared.map((each) => each.path).sort(), set(signedIn).map((each) => each.path).sort(), `${url}: every path it was set on is cleared`)
    for (const each of cleared) {
      t.equal(each.value, '', `${url}: the cookie on ${each.path} is emptied`)
      t.ok(each.maxAge === 0 || (each.expires?.getTime() ?? Infinity) <= Date.now(), `${url}: and expired`)
    }
    const after = await app.inject({ method: 'POST', url: REFRESH, headers: { origin: APP, ...sendBack(cookie) } })
    t.equal(after.statusCode, 401, `${url}: the old cookie no longer refreshes`)
  }
})

t.test('reuse detection and the grace window work through the cookie', async (t) => {
  const graceful = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: COOKIE_ENV })
  const first = refreshCookieOf(await signIn(graceful))
  const refresh = (app: FastifyInstance, cookie: Cookie | undefined) => app.inject({ method: 'POST', url: REFRESH, headers: { origin: APP, ...sendBack(cookie) } })
  const [a, b] = await Promise.all([refresh(graceful, first), refresh(graceful, first)])
  t.same([a.statusCode, b.statusCode], [200, 200], 'two tabs refreshing one cookie at once')
  t.equal(refreshCookieOf(a)?.value, refreshCookieOf(b)?.value, 'get the same successor')

  const strict = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { ...COOKIE_ENV, REFRESH_REUSE_GRACE_SECONDS: '0' } })
  const signedIn = await signIn(strict)
  const old = refreshCookieOf(signedIn)
  const rotated = await refresh(strict, old)
  t.equal(rotated.statusCode, 200)
  const reused = await refresh(strict, old)
  t.equal(reused.statusCode, 401)
  t.equal(reused.json().code, 'token_reused', 'the old cookie presented again is reuse')
  t.equal((await refresh(strict, refreshCookieOf(rotated))).statusCode, 401, 'and the whole session ended')
  t.equal((await strict.inject({ method: 'GET', url: '/v1/me', headers: bearer(rotated.json().accessToken) })).statusCode, 401, 'its access tokens too')
})

t.test('a client without Origin, or with cookie sessions off, gets and sends the refresh token in the body as before', async (t) => {
  const on = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: COOKIE_ENV })
  for (const headers of [{}, { origin: 'https://evil.example' }] as Array<Record<string, string>>) {
    const signedIn = await signIn(on, headers)
    t.type(signedIn.json().refreshToken, 'string', `${headers.origin ?? 'no Origin'}: the refresh token in the body`)
    t.equal(signedIn.headers['set-cookie'], undefined, 'no cookie')
    const refreshed = await on.inject({ method: 'POST', url: REFRESH, headers, payload: { refreshToken: signedIn.json().refreshToken } })
    t.equal(refreshed.statusCode, 200)
    t.type(refreshed.json().refreshToken, 'string', 'a refresh answers in the body')
    t.equal(refreshed.headers['set-cookie'], undefined, 'no cookie')
    const out = await on.inject({ method: 'POST', url: '/v1/auth/logout', headers: { ...headers, ...bearer(refreshed.json().accessToken) } })
    t.equal(out.statusCode, 204)
    t.equal(out.headers['set-cookie'], undefined, 'logout sets no cookie either')
  }
  const off = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { CORS_ORIGINS: APP } })
  const signedIn = await signIn(off)
  t.type(signedIn.json().refreshToken, 'string', 'SESSION_COOKIE off: a browser gets the body too')
  t.equal(signedIn.headers['set-cookie'], undefined)
  const ignored = await off.inject({ method: 'POST', url: REFRESH, headers: { origin: APP, cookie: `otp-gate-refresh=${signedIn.json().refreshToken}` } })
  t.equal(ignored.statusCode, 400, 'and the cookie is not read')
  t.equal(ignored.json().code, 'validation_failed')
})

t.test('completing MFA in a browser sets the cookie too', async (t) => {
  const clock = manualClock(new Date().toISOString())
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, now: clock.now, env: { ...COOKIE_ENV, ...REPEAT_LOGIN_ENV } })
  const { email, otpauthUri } = await enrolledUser(app, clock)
  const challenge = (await firstFactor(app, email)).json()
  t.equal(challenge.mfaRequired, true)
  const completed = await app.inject({
    method: 'POST', url: '/v1/auth/mfa/verify', headers: { origin: APP }, payload: { mfaToken: challenge.mfaToken, code: totpCode(otpauthUri, clock.ms()) }
  })
  t.equal(completed.statusCode, 200)
  t.notOk('refreshToken' in completed.json(), 'no refresh token in the body')
  t.ok(refreshCookieOf(completed), 'the cookie')
})
