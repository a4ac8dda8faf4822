import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const SCRIPT = resolve(import.meta.dirname, '../../scripts/failed-tests.ts')

/** Runs the script in a directory holding these tap results; what it printed (it prints on stderr). */
function report (results: Record<string, string>): string {
  const dir = t.testdir()
  for (const [name, tap] of Object.entries(results)) {
    const file = join(dir, '.tap/test-results', name)
    mkdirSync(join(file, '..'), { recursive: true })
    writeFileSync(file, tap)
  }
  const run = spawnSync(process.execPath, [SCRIPT], { cwd: dir, encoding: 'utf8' })
  t.equal(run.status, 0, 'the script itself exits 0: npm test fails on tap\'s exit code')
  return run.stderr
}

const PASSED = 'ok 1 - fine\n1..1\n'
const FAILED = [
  '# Subtest: outer',
  '    ok 1 - first',
  '    not ok 2 - one is two',
  '      ---',
  '      found: 1',
  '      wanted: 2',
  '      ...',
  '    1..2',
  'not ok 1 - outer',
  '1..1',
  ''
].join('\n')

t.test('names each failed assertion under its file, with its diagnostics; passed files stay out', async (t) => {
  const out = report({ 'test/a.test.ts.tap': PASSED, 'test/deep/b.test.ts.tap': FAILED })
  t.match(out, /failed tests: 1 file\(s\)/)
  t.match(out, /## test\/deep\/b\.test\.ts\n {4}not ok 2 - one is two\n {6}---\n {6}found: 1\n {6}wanted: 2/)
  t.match(out, /not ok 1 - outer/, 'the subtest that failed with it')
  t.notMatch(out, /a\.test\.ts|ok 1 - first/, 'nothing of what passed')
})

t.test('every failed file, in order', async (t) => {
  const out = report({ 'test/z.test.ts.tap': FAILED, 'test/m.test.ts.tap': FAILED })
  t.match(out, /failed tests: 2 file\(s\)\n## test\/m\.test\.ts[^]*## test\/z\.test\.ts/)
})

t.test('without results it says so and does not fail itself', async (t) => {
  t.match(report({}), /no \.tap\/test-results to read/)
})
