import t from 'tap'
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { listeningApp } from './helpers/client.ts'

const CHROMIUM = '/usr/bin/chromium'

// Security round 3, point 11: /docs has a Content-Security-Policy, and the page still works under it in a browser.
t.test('/docs: a Content-Security-Policy that allows only this server\'s scripts, and the page renders under it in Chromium', async (t) => {
  const { app, baseUrl } = await listeningApp(t, { stores: 'memory', loadShedding: false })
  for (const url of ['/docs', '/docs/static/index.html', '/docs/static/swagger-initializer.js']) {
    const csp = (await app.inject({ method: 'GET', url })).headers['content-security-policy']
    t.match(csp, /script-src 'self'(;|$)/, `${url}: scripts from this server only`)
    t.match(csp, /frame-ancestors 'none'/, `${url}: never framed`)
    t.match(csp, /object-src 'none'/)
  }
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install it with \`apt-get install chromium\``)
    return
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const violations: string[] = []
  page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()) })
  page.on('pageerror', (error) => violations.push(error.message))
  await page.goto(`${baseUrl}/docs`)
  await page.locator('.information-container .title').getByText('otp-gate').waitFor({ timeout: 15_000 })
  t.ok(await page.locator('.opblock').count() > 10, 'the operations are listed')
  t.same(violations, [], 'and nothing was blocked')
})
