import t from 'tap'
import { createClient, OtpGateError, type AuthChangeEvent } from '../../client/src/index.ts'
import { listeningApp } from '../helpers/client.ts'
import { codeFromOutbox, newEmail } from '../helpers/login.ts'
import { SoftwareAuthenticator } from '../helpers/software-authenticator.ts'
import { installWebAuthn } from '../helpers/webauthn-browser.ts'

const APP = 'http://localhost:5173'

/**
 * What a browser page on APP does with the client's requests: sends its Origin, keeps the API's cookies and sends
 * them back only for requests made with `credentials: 'include'`. Records what the client sent and received.
 */
function browserOn (origin = APP) {
  const jar = new Map<string, string>()
  const sent: Array<{ url: string, credentials: Request['credentials'], body: string }> = []
  const received: string[] = []
  let offline = false
  const fetchLikeABrowser = async (request: Request): Promise<Response> => {
    const body = await request.clone().text()
    sent.push({ url: new URL(request.url).pathname, credentials: request.credentials, body })
    if (offline) throw new TypeError('fetch failed')
    const headers = new Headers(request.headers)
    headers.set('origin', origin)
    if (request.credentials === 'include' && jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '))
    const response = await fetch(request.url, { method: request.method, headers, ...(body === '' ? {} : { body }) })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const [name = '', value = ''] = pair.split('=')
      if (value === '' || /max-age=0/i.test(line)) jar.delete(name)
      else jar.set(name, value)
    }
    received.push(await response.clone().text())
    return response
  }
  return { jar, sent, received, fetch: fetchLikeABrowser, goOffline: (value: boolean) => { offline = value } }
}

const cookieServer = (t: Parameters<typeof listeningApp>[0]) =>
  listeningApp(t, { stores: 'memory', loadShedding: false, env: { SESSION_COOKIE: 'on', CORS_ORIGINS: APP, OTP_RESEND_COOLDOWN_SECONDS: '0' } })

t.test("session: 'cookie' signs in without ever holding a refresh token, and a reload finds the session", async (t) => {
  const { app, baseUrl, refreshes } = await cookieServer(t)
  const browser = browserOn()
  const client = createClient({ baseUrl, session: 'cookie', fetch: browser.fetch })
  t.equal(await client.auth.isSignedIn(), false, 'no cookie yet: signed out, after asking once')
  const email = newEmail('cookie-client')
  const { challengeId } = await client.auth.startOtp({ email })
  const result = await client.auth.verifyOtp(challengeId, await codeFromOutbox(app, email))
  t.equal(result.mfaRequired, false)
  t.equal((await client.me.get()).email, email)
  t.same([...browser.jar.keys()].sort(), ['otp-gate-device', 'otp-gate-refresh'], 'the browser holds the cookie, and this device\'s')
  t.ok(browser.sent.every((request) => request.credentials === 'include'), 'every request with credentials: include')
  t.notOk([...browser.sent.map((request) => request.body), ...browser.received].some((text) => /refreshToken/.test(text)), 'no refresh token in any body')

  // the page reloads: a new client, the same cookie
  const before = refreshes()
  const reloaded = createClient({ baseUrl, session: 'cookie', fetch: browser.fetch })
  const [signedIn, again] = await Promise.all([reloaded.auth.isSignedIn(), reloaded.auth.isSignedIn()])
  t.same([signedIn, again], [true, true], 'still signed in')
  t.equal(refreshes() - before, 1, 'with one refresh')
  t.equal((await reloaded.me.get()).email, email)
  t.type(await reloaded.auth.getAccessToken(), 'string')

  await reloaded.auth.refresh()
  t.equal(refreshes() - before, 2, 'an explicit refresh rotates the cookie')
  t.equal((await reloaded.me.get()).email, email)

  const events: AuthChangeEvent[] = []
  reloaded.onAuthChange((event) => events.push(event))
  await reloaded.auth.logout()
  t.same(events, [{ type: 'signed_out', reason: 'logout' }])
  t.same([...browser.jar.keys()], ['otp-gate-device'], 'logout cleared the cookie; the device stays recognised')
  const afterLogout = createClient({ baseUrl, session: 'cookie', fetch: browser.fetch })
  t.equal(await afterLogout.auth.isSignedIn(), false, 'a reload after logout is signed out')
  for (const each of [client, reloaded, afterLogout]) each.close()
})

t.test("session: 'cookie': an access token about to expire is refreshed once for concurrent calls", async (t) => {
  const { app, baseUrl, refreshes } = await cookieServer(t)
  const browser = browserOn()
  let clock = Date.now()
  const client = createClient({ baseUrl, session: 'cookie', fetch: browser.fetch, now: () => clock })
  const email = newEmail('cookie-margin')
  const { challengeId } = await client.auth.startOtp({ email })
  await client.auth.verifyOtp(challengeId, await codeFromOutbox(app, email))
  clock += 900_000 - 29_000 // within the 30 s margin
  const before = refreshes()
  const users = await Promise.all(Array.from({ length: 10 }, () => client.me.get()))
  t.equal(users.length, 10)
  t.equal(refreshes() - before, 1, 'one refresh for ten callers')
  client.close()
})

t.test("session: 'cookie': an API out of reach is an error, asked again on next use", async (t) => {
  const { baseUrl } = await cookieServer(t)
  const browser = browserOn()
  const client = createClient({ baseUrl, session: 'cookie', fetch: browser.fetch })
  browser.goOffline(true)
  await t.rejects(client.auth.isSignedIn(), new OtpGateError('network_error', 0, 'The API could not be reached.'))
  browser.goOffline(false)
  t.equal(await client.auth.isSignedIn(), false, 'asked again once the API answers')
  client.close()
})

t.test('a page of an origin the API does not list cannot use the cookie', async (t) => {
  const { app, baseUrl } = await cookieServer(t)
  const browser = browserOn('https://evil.example')
  const client = createClient({ baseUrl, session: 'cookie', fetch: browser.fetch })
  const email = newEmail('cookie-foreign')
  const { challengeId } = await client.auth.startOtp({ email })
  await client.auth.verifyOtp(challengeId, await codeFromOutbox(app, email))
  t.equal(browser.jar.size, 0, 'no cookie is set for it')
  await t.rejects(client.auth.refresh(), { code: 'unauthorized' }, 'so it cannot refresh')
  t.equal(await client.auth.isSignedIn(), false)
  client.close()
})

t.test("session: 'cookie': a passkey sign-in sets the cookie too, and a reload finds that session", async (t) => {
  const passkeys = { WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: APP }
  const { app, baseUrl } = await listeningApp(t, {
    stores: 'memory', loadShedding: false, env: { SESSION_COOKIE: 'on', CORS_ORIGINS: APP, OTP_RESEND_COOLDOWN_SECONDS: '0', ...passkeys }
  })
  installWebAuthn(t, new SoftwareAuthenticator({ origin: APP }))
  const browser = browserOn()
  const client = createClient({ baseUrl, session: 'cookie', fetch: browser.fetch })
  const email = newEmail('cookie-passkey')
  const { challengeId } = await client.auth.startOtp({ email })
  await client.auth.verifyOtp(challengeId, await codeFromOutbox(app, email))
  await client.passkeys.register()
  await client.auth.logout()
  t.same([...browser.jar.keys()], ['otp-gate-device'], 'signed out: no session cookie')

  t.equal((await client.auth.signInWithPasskey()).email, email)
  t.ok(browser.jar.has('otp-gate-refresh'), 'the passkey sign-in set the session cookie')
  t.notOk(browser.received.some((text) => /refreshToken/.test(text)), 'no refresh token in any body')
  const reloaded = createClient({ baseUrl, session: 'cookie', fetch: browser.fetch })
  t.equal((await reloaded.me.get()).email, email, 'a reload finds the passkey session')
  for (const each of [client, reloaded]) each.close()
})
