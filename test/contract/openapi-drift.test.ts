import t from 'tap'
import { readFileSync } from 'node:fs'
import { renderOpenApiYaml } from '../../scripts/openapi-document.ts'
import { renderOpenApiTypes } from '../../scripts/openapi-types.ts'

const committed = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

/** Where two texts part, so a failure points at the route that changed rather than dumping 100 kB. */
function firstDifference (actual: string, expected: string): string | null {
  const a = actual.split('\n')
  const b = expected.split('\n')
  const line = a.findIndex((text, index) => text !== b[index])
  if (line === -1 && a.length === b.length) return null
  const at = line === -1 ? Math.min(a.length, b.length) : line
  return `line ${at + 1}: committed ${JSON.stringify(a[at])}, generated ${JSON.stringify(b[at])}`
}

t.test('the committed contract is what the routes generate (run `npm run openapi` after changing a route)', async (t) => {
  const yaml = await renderOpenApiYaml()
  t.equal(firstDifference(committed('openapi.yaml'), yaml), null, 'openapi.yaml is current')
  const types = await renderOpenApiTypes(yaml)
  t.equal(firstDifference(committed('client/src/openapi.ts'), types), null, 'client/src/openapi.ts is current')
})
