import t from 'tap'
import { existsSync, mkdirSync } from 'node:fs'
import { chromium, type BrowserContext, type Locator, type Page, type Route } from 'playwright-core'
import type { Test } from 'tap'
import { expiredTwin, listeningApp } from './helpers/client.ts'
import { buildTestApp } from './helpers/build-app.ts'
import { deliveriesSettled, codeFromOutbox, newEmail } from './helpers/login.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = new URL('artifacts/', import.meta.url)

/** Chromium with a context whose requests may only reach `baseUrl`; `open` loads /demo in a new tab of it. */
async function demoBrowser (
  t: Test, baseUrl: string, setUp: (context: BrowserContext) => Promise<void> = async () => {}
) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']
  })
  t.teardown(() => browser.close())
  const context = await browser.newContext()
  await setUp(context)
  const outside: string[] = []
  await context.route('**/*', (route) => {
    if (route.request().url().startsWith(baseUrl)) return route.continue()
    outside.push(route.request().url())
    return route.abort()
  })
  const errors: string[] = []
  const open = async () => {
    const page = await context.newPage()
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(`${baseUrl}/demo`)
    return page
  }
  return { context, open, outside, errors }
}

const signedInAs = (page: Page, email: string) => page.locator('#user').getByText(email).waitFor({ timeout: 15_000 })
/** Whether the element shows up within 15 s: an answer to assert on, where waitFor would throw. */
const showsUp = (locator: Locator) => locator.waitFor({ timeout: 15_000 }).then(() => true, () => false)

t.test('/demo: a person signs in by email; two tabs meeting an expired access token stay signed in with one refresh', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install it with \`apt-get install chromium\` (scripts/test-services.sh does, when run as root)`)
    return
  }
  const { app, baseUrl, refreshes } = await listeningApp(t, { stores: 'memory', loadShedding: false })
  const { context, open, outside, errors } = await demoBrowser(t, baseUrl)

  // one tab: email, the code from the dev outbox, signed in
  const first = await open()
  const email = newEmail('demo')
  await first.getByLabel('Email address').fill(email)
  await first.getByRole('button', { name: 'Send code' }).click()
  const codeInput = first.getByLabel('Code', { exact: true })
  await codeInput.waitFor()
  t.equal(await codeInput.evaluate((input) => input.matches(':focus')), true, 'the focus moves to the code')
  t.same(await codeInput.evaluate((input) => [input.getAttribute('autocomplete'), input.getAttribute('inputmode')]), ['one-time-code', 'numeric'])
  await deliveriesSettled(app)
  const outboxLink = await first.locator('#outbox-link').getAttribute('href')
  const outbox = await (await context.request.get(new URL(outboxLink ?? '', baseUrl).href)).json() as { messages: Array<{ code: string }> }
  await codeInput.fill(outbox.messages[0]?.code ?? '')
  await first.getByRole('button', { name: 'Sign in' }).click()
  await signedInAs(first, email)
  const heading = first.getByRole('heading', { name: 'Signed in' })
  t.equal(await heading.evaluate((element) => element.matches(':focus')), true, 'the focus moves to the signed-in heading')
  t.match(await first.locator('#sessions').textContent(), /This browser/)
  mkdirSync(ARTIFACTS, { recursive: true })
  await first.screenshot({ path: new URL('demo-signed-in.png', ARTIFACTS).pathname, fullPage: true })

  // a second tab shares the session
  const second = await open()
  await signedInAs(second, email)

  // both tabs find an access token the server has expired; their requests are held until both have sent one
  const key = `otp-gate:${baseUrl}`
  const storedTokens = (page: Page) => page.evaluate((name) => JSON.parse(localStorage.getItem(name) ?? 'null'), key) as
    Promise<{ accessToken: string, refreshToken: string }>
  const stored = await storedTokens(first)
  const expired = expiredTwin(app, stored.accessToken)
  const tampered = JSON.stringify({ ...stored, accessToken: expired })
  await first.evaluate(([name, value]) => localStorage.setItem(name, value), [key, tampered] as const)
  const holding = new Set<Page>()
  let releaseBoth: () => void = () => {}
  const bothSent = new Promise<void>((resolve) => { releaseBoth = resolve })
  const hold = (page: Page) => async (route: Route) => {
    if (route.request().headers().authorization === `Bearer ${expired}`) {
      holding.add(page)
      if (holding.size === 2) releaseBoth()
      await bothSent
    }
    return route.continue()
  }
  await first.route(`${baseUrl}/v1/me**`, hold(first))
  await second.route(`${baseUrl}/v1/me**`, hold(second))
  const before = refreshes()
  await Promise.all([first.reload(), second.reload()])
  await Promise.all([signedInAs(first, email), signedInAs(second, email)])
  t.equal(holding.size, 2, 'both tabs sent the expired token')
  t.equal(refreshes() - before, 1, 'one refresh reached the server')
  const after = await Promise.all([first, second].map(async (page) => (await storedTokens(page)).refreshToken))
  t.equal(after[0], after[1], 'both tabs hold the same pair')
  t.not(after[0], stored.refreshToken, 'a new one')
  t.same(await Promise.all([first, second].map((page) => page.locator('#error').textContent())), ['', ''], 'no error shown')

  // signing out in one tab signs the other out
  await first.getByRole('button', { name: 'Sign out', exact: true }).click()
  await second.getByRole('heading', { name: 'Get a code' }).waitFor()
  t.match(await second.locator('#status').textContent(), /signed out/)
  t.same(outside, [], 'no request leaves the server')
  t.same(errors, [], 'no script errors')
})

t.test('/demo without BroadcastChannel: the storage event tells the other tabs', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing`)
    return
  }
  const { app, baseUrl } = await listeningApp(t, { stores: 'memory', loadShedding: false })
  const { open, outside, errors } = await demoBrowser(t, baseUrl, async (context) => {
    await context.addInitScript(() => { Reflect.deleteProperty(globalThis, 'BroadcastChannel') })
  })
  const first = await open()
  const second = await open()
  t.equal(await first.evaluate(() => 'BroadcastChannel' in globalThis), false, 'no BroadcastChannel in these tabs')
  const email = newEmail('demo-fallback')
  await first.getByLabel('Email address').fill(email)
  await first.getByRole('button', { name: 'Send code' }).click()
  const codeInput = first.getByLabel('Code', { exact: true })
  await codeInput.waitFor() // the code was asked for
  await codeInput.fill(await codeFromOutbox(app, email))
  await first.getByRole('button', { name: 'Sign in' }).click()
  await signedInAs(first, email)
  t.ok(await showsUp(second.locator('#user').getByText(email)), 'a sign-in in one tab reaches the other')
  await first.getByRole('button', { name: 'Sign out', exact: true }).click()
  t.ok(await showsUp(second.getByRole('heading', { name: 'Get a code' })), 'and so does a sign-out')
  t.same(outside, [], 'no request leaves the server')
  t.same(errors, [], 'no script errors')
})

t.test('/demo exists only where the dev outbox does', async (t) => {
  const provider = { SENDGRID_API_KEY: 'SG.test', EMAIL_FROM: 'codes@example.org' }
  const withoutOutbox = await buildTestApp(t, { loadShedding: false, env: provider })
  for (const url of ['/demo', '/demo/app.js', '/demo/style.css']) {
    t.equal((await withoutOutbox.inject({ url })).statusCode, 404, `${url} is not served`)
  }
  const embedded = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  t.equal((await embedded.inject({ url: '/demo' })).statusCode, 200, 'the embedded mode serves it')
  const script = await embedded.inject({ url: '/demo/app.js' })
  t.equal(script.headers['content-type'], 'text/javascript; charset=utf-8')
  t.match(script.body, /otp-gate/, 'the bundle')
  await embedded.ready()
  t.notMatch(JSON.stringify(embedded.swagger()), /\/demo/, 'not in the API document')
})
