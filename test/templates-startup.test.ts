import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'

const serverEntry = fileURLToPath(new URL('../src/server.ts', import.meta.url))

/** The server process on this environment alone; resolves with its exit code and what it wrote to stderr. */
async function start (env: Record<string, string>): Promise<{ code: number | null, stderr: string }> {
  const child = spawn(process.execPath, [serverEntry], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  return { code, stderr }
}

t.test('a broken custom template stops the server with one line naming the file', async (t) => {
  const dir = t.testdir()
  mkdirSync(join(dir, 'fr'))
  writeFileSync(join(dir, 'fr', 'code.text.hbs'), 'Votre code : {{code}}\n{{#if link}}{{lien}}{{/if}}\n')
  const { code, stderr } = await start({ EMAIL_TEMPLATES_DIR: dir })
  t.equal(code, 1)
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 1, `one line: ${stderr}`)
  t.match(lines[0], `otp-gate: could not start: template ${join(dir, 'fr', 'code.text.hbs')}: unknown variable "lien" at 2:15;`)
})

t.test('a syntax error too', async (t) => {
  const dir = t.testdir({ en: { 'code.html.hbs': '{{#> layout}}{{code}}\n' } })
  const { code, stderr } = await start({ EMAIL_TEMPLATES_DIR: dir })
  t.equal(code, 1)
  t.equal(stderr.trim().split('\n').length, 1)
  t.match(stderr, /template .*en\/code\.html\.hbs: Parse error on line 2: .*got 'EOF'/)
})
