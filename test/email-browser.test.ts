import t from 'tap'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { builtInTemplates, renderCodeEmail } from '../src/delivery/templates/render.ts'

// Each locale's built-in code email, as a phone shows it: the code must be readable without scrolling, in light
// and dark mode. Screenshots go to test/artifacts/ (git-ignored) for a person to look at.

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url))
const PHONE = { width: 375, height: 667 }
const CODE = '482913'

// what the page functions use of the browser (the project compiles without the DOM library)
interface BrowserGlobals {
  getComputedStyle (element: unknown): { fontSize: string, fontFamily: string, color: string, backgroundColor: string }
  document: { documentElement: { scrollWidth: number } }
  innerWidth: number
}

t.test('the code is visible in the first screen of every locale\'s email at phone width', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} is missing: install it with \`apt-get install chromium\` (scripts/test-services.sh does, when run as root)`)
    return
  }
  mkdirSync(ARTIFACTS, { recursive: true })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']
  })
  t.teardown(() => browser.close())

  for (const language of builtInTemplates().languages) {
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ viewport: PHONE, colorScheme })
      // an email has nothing to fetch: any request would be a tracking pixel or external CSS
      const requests: string[] = []
      await page.route('**/*', (route) => { requests.push(route.request().url()); return route.abort() })
      const { html } = renderCodeEmail({
        locale: language, appName: 'Acme Accounts', code: CODE, expiresInSeconds: 300, link: `https://app.example.com/auth/callback#challengeId=c&code=${CODE}`
      })
      await page.setContent(html)
      const code = page.getByText(CODE, { exact: true })
      const box = await code.boundingBox()
      await page.screenshot({ path: `${ARTIFACTS}email-${language}-${colorScheme}.png` })
      const where = `${language}, ${colorScheme}`
      t.ok(await code.isVisible(), `${where}: the code is shown`)
      t.ok(box !== null && box.y >= 0 && box.y + box.height <= PHONE.height &&
        box.x >= 0 && box.x + box.width <= PHONE.width,
        `${where}: the code is within the first ${PHONE.width}×${PHONE.height} screen (${JSON.stringify(box)})`)
      const style = await code.evaluate((element) => {
        const computed = (globalThis as unknown as BrowserGlobals).getComputedStyle(element)
        return {
          fontSize: Number.parseFloat(computed.fontSize),
          fontFamily: computed.fontFamily,
          color: computed.color,
          background: computed.backgroundColor
        }
      })
      t.ok(style.fontSize >= 24, `${where}: large (${style.fontSize}px)`)
      t.match(style.fontFamily, /monospace/, `${where}: monospaced`)
      t.not(style.color, style.background, `${where}: the code's colour differs from its background`)
      t.equal(await page.evaluate(() => {
        const { document, innerWidth } = globalThis as unknown as BrowserGlobals
        return document.documentElement.scrollWidth <= innerWidth
      }), true, `${where}: no sideways scrolling`)
      t.same(requests, [], `${where}: nothing fetched`)
      await page.close()
    }
  }
})
