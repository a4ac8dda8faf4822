import t from 'tap'
import { buildTestApp } from './helpers/build-app.ts'
import { documentOf } from './helpers/openapi.ts'

// What /docs owes us, without a browser: swagger-ui's own rendering is its project's to test. Every example
// request validating against its schema is test/routes/openapi-conformance.test.ts's.
t.test('/docs stands on its own: every asset comes from this server, and it shows our document', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const page = await app.inject({ method: 'GET', url: '/docs' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, url]) => url!)
  t.ok(assets.length >= 3, `the page loads its scripts and styles (${assets.join(', ')})`)
  for (const asset of assets) {
    t.notMatch(asset, /^(https?:)?\/\//, `${asset}: from this server, not another`)
    const served = await app.inject({ method: 'GET', url: new URL(asset, 'http://local/docs/').pathname })
    t.equal(served.statusCode, 200, `${asset} is served`)
  }
  const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
  const documentUrl = /\burl: resolveUrl\('([^']+)'\)/.exec(initializer.body)?.[1]
  t.ok(documentUrl, 'the page names the document it shows')
  const shown = await app.inject({ method: 'GET', url: new URL(documentUrl ?? '', 'http://local/docs/').pathname })
  t.same(shown.json(), await documentOf(app), 'and it is ours')
})
