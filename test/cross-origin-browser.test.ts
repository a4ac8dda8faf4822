import t from 'tap'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { chromium, type Page } from 'playwright-core'
import type { Test } from 'tap'
import { listeningApp, type ListeningApp } from './helpers/client.ts'
import { codeFromOutbox, newEmail } from './helpers/login.ts'

const CHROMIUM = '/usr/bin/chromium'

/** A frontend of its own: a page and @otp-gate/client bundled by esbuild, served on a loopback port of its own. */
async function appServer (t: Test): Promise<number> {
  const { build } = await import('esbuild')
  const bundle = await build({
    stdin: { contents: "import { createClient } from './client/src/index.ts'; Object.assign(globalThis, { createClient })", resolveDir: fileURLToPath(new URL('..', import.meta.url)), loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    logLevel: 'silent'
  })
  const script = bundle.outputFiles[0]?.text ?? ''
  const server = createServer((request, response) => {
    const [type, body] = request.url === '/app.js'
      ? ['text/javascript', script]
      : ['text/html', '<!doctype html><title>An app on its own origin</title><script type="module" src="/app.js"></script>']
    response.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return (server.address() as { port: number }).port
}

async function browser (t: Test) {
  const instance = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']
  })
  t.teardown(() => instance.close())
  return instance.newContext()
}

/** Opens the app at `origin` and makes a client of the API there, as `window.client`. */
async function openApp (page: Page, origin: string, api: string, session: 'tokens' | 'cookie') {
  await page.goto(`${origin}/`)
  await page.waitForFunction(() => 'createClient' in globalThis)
  await page.evaluate(([baseUrl, mode]) => {
    const { createClient } = globalThis as unknown as { createClient: (options: object) => unknown }
    Object.assign(globalThis, { client: createClient({ baseUrl, session: mode }) })
  }, [api, session] as const)
}

interface Client {
  auth: Record<string, (...args: unknown[]) => Promise<unknown>>
  me: { get: () => Promise<{ email: string }> }
}
// what the page offers its scripts, typed here: the tests compile without the DOM library
interface PageGlobals { document: { cookie: string }, localStorage: object, sessionStorage: object }

/** Signs in on the page with an email code the test reads from the dev outbox; answers the user's email. */
async function signIn (page: Page, server: ListeningApp, email: string): Promise<string> {
  const challengeId = await page.evaluate(async (address) => {
    const { client } = globalThis as unknown as { client: Client }
    return ((await client.auth.startOtp!({ email: address })) as { challengeId: string }).challengeId
  }, email)
  const code = await codeFromOutbox(server.app, email)
  return page.evaluate(async ([id, value]) => {
    const { client } = globalThis as unknown as { client: Client }
    await client.auth.verifyOtp!(id, value)
    return (await client.me.get()).email
  }, [challengeId, code] as const)
}

t.test('a page on another origin signs in with @otp-gate/client, in memory and with the httpOnly cookie', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install it with \`apt-get install chromium\``)
    return
  }
  const appPort = await appServer(t)
  const origin = `http://127.0.0.1:${appPort}`
  const env = { CORS_ORIGINS: origin, OTP_RESEND_COOLDOWN_SECONDS: '0' }
  const memoryApi = await listeningApp(t, { stores: 'memory', loadShedding: false, env })
  const cookieApi = await listeningApp(t, { stores: 'memory', loadShedding: false, env: { ...env, SESSION_COOKIE: 'on' } })
  t.not(new URL(memoryApi.baseUrl).origin, origin, 'the API is on another origin')
  const context = await browser(t)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))

  await openApp(page, origin, memoryApi.baseUrl, 'tokens')
  const memoryEmail = newEmail('cors-memory')
  t.equal(await signIn(page, memoryApi, memoryEmail), memoryEmail, 'memory mode: signed in across origins')

  await openApp(page, origin, cookieApi.baseUrl, 'cookie')
  const email = newEmail('cors-cookie')
  t.equal(await signIn(page, cookieApi, email), email, 'cookie mode: signed in across origins')
  const [cookie] = (await context.cookies(cookieApi.baseUrl + '/v1/auth/token/refresh')).filter((each) => each.name.endsWith('otp-gate-refresh'))
  t.ok(cookie, 'the browser holds the refresh cookie')
  t.match(cookie, { httpOnly: true, path: '/v1/auth/token/refresh', sameSite: 'Lax' })
  t.same((await context.cookies(`${cookieApi.baseUrl}/v1/auth/otp`)).filter((each) => each.name.endsWith('otp-gate-refresh')), [], 'the sign-in routes get no refresh cookie')
  const visible = await page.evaluate(() => {
    const { document, localStorage, sessionStorage } = globalThis as unknown as PageGlobals
    return JSON.stringify({ cookie: document.cookie, local: { ...localStorage }, session: { ...sessionStorage } })
  })
  t.notOk(cookie?.value && visible.includes(cookie.value), 'document.cookie, localStorage and sessionStorage hold no refresh token')
  t.notMatch(visible, /refresh/i, 'nor anything named for one')

  const before = cookieApi.refreshes()
  await page.reload()
  await openApp(page, origin, cookieApi.baseUrl, 'cookie')
  const after = await page.evaluate(async () => {
    const { client } = globalThis as unknown as { client: Client }
    return { signedIn: await client.auth.isSignedIn!(), email: (await client.me.get()).email }
  })
  t.same(after, { signedIn: true, email }, 'after a reload, still signed in')
  t.equal(cookieApi.refreshes() - before, 1, 'by one refresh with the cookie')
  t.same(errors, [], 'no script errors')
})

t.test('the same page on an origin the API does not list cannot sign in: the browser blocks it', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing`)
    return
  }
  const appPort = await appServer(t)
  const api = await listeningApp(t, { stores: 'memory', loadShedding: false, env: { CORS_ORIGINS: `http://127.0.0.1:${appPort}`, SESSION_COOKIE: 'on' } })
  const context = await browser(t)
  const page = await context.newPage()
  const console: string[] = []
  page.on('console', (message) => console.push(message.text()))
  const stranger = `http://localhost:${appPort}`
  await openApp(page, stranger, api.baseUrl, 'cookie')
  const failure = await page.evaluate(async (address) => {
    const { client } = globalThis as unknown as { client: Client }
    try {
      await client.auth.startOtp!({ email: address })
      return 'signed in'
    } catch (error) {
      return (error as { code?: string }).code
    }
  }, newEmail('cors-stranger'))
  t.equal(failure, 'network_error', 'the client sees no answer')
  t.ok(console.some((line) => line.includes(stranger) && /blocked by CORS policy/.test(line)), `the browser says why: ${console.join(' | ')}`)
})
