import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { listeningApp } from '../helpers/client.ts'
import { newEmail, outboxOf } from '../helpers/login.ts'

const run = promisify(execFile)
const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url))
const tsc = repo('node_modules/.bin/tsc')
// the machine's own Node (20 on the test machines), to show the packed JS needs nothing newer
const SYSTEM_NODE = '/usr/bin/node'

/** tsc's verdict on a project: its exit code and what it said. */
async function typecheck (project: string): Promise<{ code: number, output: string }> {
  try {
    const { stdout } = await run(tsc, ['-p', project])
    return { code: 0, output: stdout }
  } catch (error) {
    const failure = error as { code: number, stdout: string }
    return { code: failure.code, output: failure.stdout }
  }
}

t.test('npm pack of @otp-gate/client: JS and declarations that a consumer type-checks against and Node 20 runs', async (t) => {
  const dir = t.testdir({})
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repo('client') })
  const [packed] = JSON.parse(stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  if (packed === undefined) throw new Error('npm pack reported nothing')
  const files = packed.files.map((file) => file.path)
  t.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts'), 'the build and its declarations')
  t.same(files.filter((file) => !file.startsWith('dist/') && file !== 'package.json' && file !== 'README.md'), [], 'nothing else: no sources, no tests')
  t.same(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')), [], 'no TypeScript source')

  // a consumer's project: the tarball unpacked into its node_modules, beside the one dependency
  const consumer = join(dir, 'consumer')
  const installed = join(consumer, 'node_modules', '@otp-gate', 'client')
  mkdirSync(installed, { recursive: true })
  await run('tar', ['-xzf', join(dir, packed.filename), '--strip-components=1', '-C', installed])
  for (const dependency of ['openapi-fetch', 'openapi-typescript-helpers']) {
    symlinkSync(repo(`node_modules/${dependency}`), join(consumer, 'node_modules', dependency), 'dir')
  }
  for (const file of ['consumer.ts', 'tsconfig.json']) copyFileSync(repo(`test/fixtures/client-consumer/${file}`), join(consumer, file))

  const clean = await typecheck(consumer)
  t.equal(clean.code, 0, `the consumer type-checks against the packed d.ts${clean.output ? `:\n${clean.output}` : ''}`)
  appendFileSync(join(consumer, 'consumer.ts'), "\nexport const phone: number = (null as unknown as import('@otp-gate/client').User).phone\n")
  const broken = await typecheck(consumer)
  t.not(broken.code, 0, 'control: a consumer misusing the types fails')
  t.match(broken.output, /consumer\.ts\(\d+,\d+\): error TS2322/)

  const skip = existsSync(SYSTEM_NODE) ? false : `${SYSTEM_NODE} is missing`
  await t.test('the packed JS asks the API for a code on the machine\'s own Node', { skip }, async (t) => {
    const { app, baseUrl } = await listeningApp(t, { stores: 'memory', loadShedding: false })
    writeFileSync(join(consumer, 'start.mjs'), [
      "import { createClient } from '@otp-gate/client'",
      'const client = createClient({ baseUrl: process.argv[2] })',
      'const challenge = await client.auth.startOtp({ email: process.argv[3] })',
      'console.log(JSON.stringify({ node: process.version, channel: challenge.channel }))'
    ].join('\n'))
    const email = newEmail('packed')
    const { stdout: output } = await run(SYSTEM_NODE, ['start.mjs', baseUrl, email], { cwd: consumer })
    const started = JSON.parse(output) as { node: string, channel: string }
    t.equal(started.channel, 'email', `the packed client asked for a code, on Node ${started.node}`)
    t.equal((await outboxOf(app, email)).json().messages.length, 1, 'and the API sent it')
  })
})
