// After a red `npm test`: the failed assertions, each under its test file, printed last. tap's own report of them
// is followed by the ~150-line coverage table, so a log cut to its tail (a CI summary) would show no failure.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const RESULTS = '.tap/test-results'
/** diagnostic lines kept after a failed assertion (its YAML block: message, found, wanted, at) */
const DIAGNOSTIC_LINES = 14

const failuresIn = (tap: string): string[] => {
  const lines = tap.split('\n')
  const out: string[] = []
  lines.forEach((line, index) => {
    if (!/^\s*not ok \d+/.test(line)) return
    out.push(line)
    // a leaf assertion carries its diagnostics; a subtest that failed because of one does not
    if (lines[index + 1]?.trim() === '---') out.push(...lines.slice(index + 1, index + 1 + DIAGNOSTIC_LINES))
  })
  return out
}

let files: string[]
try {
  files = readdirSync(RESULTS, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.tap')).sort()
} catch {
  console.error(`failed tests: no ${RESULTS} to read (tap did not run?)`)
  process.exit(0)
}
const failed = files.map((name) => ({ name, failures: failuresIn(readFileSync(join(RESULTS, name), 'utf8')) }))
  .filter(({ failures }) => failures.length > 0)
console.error(`\nfailed tests: ${failed.length} file(s)`)
for (const { name, failures } of failed) console.error(`## ${name.replace(/\.tap$/, '')}\n${failures.join('\n')}`)
