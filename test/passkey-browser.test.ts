import t from 'tap'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { chromium, type Page } from 'playwright-core'
import { buildTestApp } from './helpers/build-app.ts'
import { codeFromOutbox, newEmail } from './helpers/login.ts'
import { claimsOf } from './helpers/totp.ts'
import { assertWithRpId, virtualAuthenticator } from './helpers/virtual-authenticator.ts'

const CHROMIUM = '/usr/bin/chromium'

/** A port free now: WEBAUTHN_ORIGINS names it before the app listens. */
const freePort = () => new Promise<number>((resolve, reject) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number }
    server.close(() => resolve(port))
  }).on('error', reject)
})

const signedInAs = (page: Page, email: string) => page.locator('#user').getByText(email).waitFor({ timeout: 15_000 })
const storedTokens = (page: Page, key: string) =>
  page.evaluate((name) => JSON.parse(localStorage.getItem(name) ?? 'null'), key) as Promise<{ accessToken: string }>

t.test('/demo in Chromium with a virtual authenticator: code, add a passkey, passkey alone, removed passkey and another RP ID refused', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install it with \`apt-get install chromium\``)
    return
  }
  const port = await freePort()
  // localhost is a secure context over http; other.localhost is a second allowed origin under the same RP ID
  const origin = `http://localhost:${port}`
  const otherOrigin = `http://other.localhost:${port}`
  const app = await buildTestApp(t, {
    stores: 'memory',
    loadShedding: false,
    env: { WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: `${origin},${otherOrigin}`, OTP_RESEND_COOLDOWN_SECONDS: '0' }
  })
  await app.listen({ port, host: '127.0.0.1' })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--host-resolver-rules=MAP localhost 127.0.0.1, MAP other.localhost 127.0.0.1'
    ]
  })
  t.teardown(() => browser.close())
  const context = await browser.newContext()
  const errors: string[] = []
  const refusals: string[] = []
  const page = await context.newPage()
  page.on('pageerror', (error) => errors.push(error.message))
  let verifies = 0
  let meLoads = 0
  page.on('request', (request) => { if (request.url().endsWith('/v1/me')) meLoads++ })
  page.on('response', async (response) => {
    if (!response.url().endsWith('/v1/auth/passkey/verify')) return
    verifies++
    if (response.status() !== 200) refusals.push(`${response.status()} ${(await response.json() as { code: string }).code}`)
  })
  const authenticator = await virtualAuthenticator(page)
  await page.goto(`${origin}/demo`)
  t.equal(await page.getByLabel('Email address').getAttribute('autocomplete'), 'username webauthn', 'conditional UI can offer passkeys')

  // signed in by email code
  const email = newEmail('passkey-demo')
  await page.getByLabel('Email address').fill(email)
  await page.getByRole('button', { name: 'Send code' }).click()
  await page.getByLabel('Code', { exact: true }).fill(await codeFromOutbox(app, email))
  await page.getByRole('button', { name: 'Sign in' }).click()
  await signedInAs(page, email)

  // a passkey is added, and listed
  await page.getByLabel('Name of a new passkey (optional)').fill('Test laptop')
  await page.getByRole('button', { name: 'Add a passkey' }).click()
  await page.getByRole('button', { name: 'Remove the passkey Test laptop' }).waitFor({ timeout: 15_000 })
  const [created] = await authenticator.credentials()
  t.equal(created?.rpId, 'localhost', 'the authenticator holds a credential for localhost')
  t.equal(created?.isResidentCredential, true, 'a discoverable one')

  // signed out, then in with the passkey alone: the start step offers it in the email field's autofill (conditional
  // UI), and the virtual authenticator, simulating the person's touch, picks it at once
  const loadsBefore = meLoads
  const verified = page.waitForResponse((response) => response.url().endsWith('/v1/auth/passkey/verify'))
  await page.getByRole('button', { name: 'Sign out', exact: true }).click()
  t.equal((await verified).status(), 200, 'the autofill\'s passkey signed in')
  await signedInAs(page, email)
  t.equal(verifies, 1, 'one passkey sign-in')
  t.equal(meLoads - loadsBefore, 1, 'the signed-in step loads once')
  const key = `otp-gate:${origin}`
  t.same(claimsOf((await storedTokens(page, key)).accessToken).amr, ['webauthn'], 'the session is a passkey one')
  const me = await app.inject({ url: '/v1/me/sessions', headers: { authorization: `Bearer ${(await storedTokens(page, key)).accessToken}` } })
  t.same(me.json().sessions.find((session: { current: boolean }) => session.current)?.amr, ['webauthn'], 'and so says the server')

  // another RP ID: the passkey's key and id copied into a second authenticator under other.localhost and asserted
  // there (an allowed origin; Chromium lets a page use only its own domain or a registrable suffix) is refused;
  // the same copy under localhost, asserted on localhost, signs in, so the copy is sound and the RP ID is what counts
  const [current] = await authenticator.credentials() // with the signature counter the sign-in left
  const copyIn = async (pageOrigin: string, rpId: string) => {
    const other = await context.newPage()
    const copy = await virtualAuthenticator(other)
    await other.goto(`${pageOrigin}/demo/style.css`) // the origin, without the page's own passkey requests
    await copy.add({ ...current!, rpId })
    const answer = await assertWithRpId(other, rpId)
    await other.close()
    return answer
  }
  const refused = await copyIn(otherOrigin, 'other.localhost')
  t.same([refused.status, refused.body.code], [401, 'invalid_passkey'], 'a credential for another RP ID is refused')
  const control = await copyIn(origin, 'localhost')
  t.equal(control.status, 200, 'the same copy for localhost signs in: only the RP ID made the difference')

  // the passkey is removed on the demo; the authenticator still offers it, and the server refuses it
  await page.getByRole('button', { name: 'Remove the passkey Test laptop' }).click()
  await page.getByText(/is removed/).waitFor({ timeout: 15_000 })
  t.equal(await page.getByRole('button', { name: /Remove the passkey/ }).count(), 0, 'no longer listed')
  await page.getByRole('button', { name: 'Sign out', exact: true }).click() // the autofill offers it again
  await page.locator('#error').getByText(/not recognised/).waitFor({ timeout: 15_000 })
  t.equal((await authenticator.credentials()).length, 1, 'the device still has it')
  t.same(refusals, ['401 invalid_passkey'], 'the server refused it with 401 invalid_passkey')
  t.equal(await page.locator('#signed-in').isHidden(), true, 'not signed in')
  t.same(errors, [], 'no script errors')
})
