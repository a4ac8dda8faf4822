import t from 'tap'
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { buildTestApp } from './helpers/build-app.ts'
import { documentOf, operationsOf } from './helpers/openapi.ts'

const CHROMIUM = '/usr/bin/chromium'

t.test('/docs lists every operation of the document in a real browser', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install it with \`apt-get install chromium\` (scripts/test-services.sh does, when run as root)`)
    return
  }
  const app = await buildTestApp(t, { stores: 'memory' })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const documented = operationsOf(await documentOf(app)).map(({ operation }) => operation.operationId).toSorted()
  const served = (await (await fetch(`${address}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> }
  const servedIds = Object.values(served.paths).flatMap((item) => Object.values(item).map((operation) => operation.operationId)).toSorted()
  t.same(servedIds, documented, '/openapi.json serves the document')

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  // the page must stand on its own: nothing but this server is reachable
  const outside: string[] = []
  await page.route('**/*', (route) => {
    if (route.request().url().startsWith(address)) return route.continue()
    outside.push(route.request().url())
    return route.abort()
  })
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))

  await page.goto(`${address}/docs`)
  await page.locator('.opblock-summary-operation-id').first().waitFor({ timeout: 15_000 })
  const listed = (await page.locator('.opblock-summary-operation-id').allTextContents()).map((text) => text.trim()).toSorted()

  t.same(listed, servedIds, 'every operation is listed once, by its operationId')
  t.equal(await page.locator('.information-container .title').first().textContent().then((text) => text?.startsWith('otp-gate')), true, 'the title')
  t.same(outside, [], 'no request leaves the server')
  t.same(errors, [], 'no script errors')
})
