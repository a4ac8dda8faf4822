import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requireEnv } from './helpers/build-app.ts'
import { startFakeSendGrid } from './helpers/fake-sendgrid.ts'
import { startFakeVonage } from './helpers/fake-vonage.ts'
import { testMongoUrl, testServerNodeOptions } from './helpers/mongo.ts'
import { newEmail } from './helpers/login.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

/** The shell block the Production section of docs/operations.md marks as its setup. */
function productionSetup (): string {
  const page = readFileSync(join(root, 'docs', 'operations.md'), 'utf8')
  const block = /<!-- production-setup[^>]*-->\n```sh\n([\s\S]*?)\n```/.exec(page)?.[1]
  if (block === undefined) throw new Error('docs/operations.md has no production-setup block')
  return block
}

t.test('the production steps of docs/operations.md, run as written, from the repository\'s root, start a server that is ready and logs in', async (t) => {
  const [sendgrid, vonage] = await Promise.all([startFakeSendGrid(), startFakeVonage()])
  t.teardown(() => Promise.all([sendgrid.close(), vonage.close()]))
  // a checkout of our own to write .env into: the repository's files, linked
  const checkout = mkdtempSync(join(tmpdir(), 'otp-gate-production-setup-'))
  t.teardown(() => rmSync(checkout, { recursive: true, force: true }))
  for (const name of ['package.json', 'src', 'plugins', 'node_modules']) symlinkSync(join(root, name), join(checkout, name))

  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    // what the environment sets over .env: this suite's stores and fake providers, a free port
    REDIS_URL: requireEnv('REDIS_URL'),
    MONGODB_URL: testMongoUrl(t),
    // what the test server lacks of MongoDB, made up for in the driver (test/helpers/ferretdb-shims.ts)
    NODE_OPTIONS: testServerNodeOptions,
    SENDGRID_BASE_URL: sendgrid.url,
    VONAGE_BASE_URL: vonage.url,
    PORT: '0',
    WORKER_PORT: '0'
  }
  const shell = spawn('bash', ['-euc', productionSetup()], { cwd: checkout, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  shell.stderr.on('data', (chunk) => { stderr += chunk })
  // the shell, npm, the worker and the server are one process group of ours
  t.teardown(() => { if (shell.exitCode === null) process.kill(-shell.pid!, 'SIGTERM') })
  // both the worker (its health port) and the API listen: the API is the one whose readiness checks MongoDB
  const listening = await new Promise<string[]>((resolve, reject) => {
    shell.stdout.on('data', (chunk) => {
      stdout += chunk
      const addresses = [...stdout.matchAll(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/g)].map((match) => match[1]!)
      if (addresses.length === 2) resolve(addresses)
    })
    shell.once('exit', (code) => reject(new Error(`the steps ended (${code}) before the worker and the server listened:\n${stderr}${stdout}`)))
  })
  // listening comes before ready: each is asked until it says ready (or the test's timeout ends it)
  const readyChecks = async (url: string): Promise<Record<string, string>> => {
    for (;;) {
      const answer = await fetch(`${url}/health/ready`)
      if (answer.ok) return ((await answer.json()) as { checks: Record<string, string> }).checks
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const checks = await Promise.all(listening.map(readyChecks))
  const address = listening[checks.findIndex((check) => 'mongodb' in check)]!
  t.same(checks.find((check) => !('mongodb' in check)), { redis: 'ok' }, 'the worker is ready')
  t.match(readFileSync(join(checkout, '.env'), 'utf8'), /^NODE_ENV=production$/m, 'the steps wrote .env')

  const ready = await fetch(`${address}/health/ready`)
  t.equal(ready.status, 200, 'ready')
  t.same(await ready.json(), { status: 'ok', checks: { redis: 'ok', mongodb: 'ok' } })
  t.notMatch(stdout, /DEV OUTBOX|EMBEDDED MODE|ephemeral/, 'nothing made up at start')

  const email = newEmail('production-setup')
  const post = (path: string, body: unknown) =>
    fetch(`${address}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const started = await post('/v1/auth/otp', { email })
  t.equal(started.status, 202)
  const { challengeId } = await started.json() as { challengeId: string }
  const [sent] = await sendgrid.received(1)
  const code = /\b(\d{6})\b/.exec(JSON.stringify(sent?.body))?.[1]
  const verified = await post('/v1/auth/otp/verify', { challengeId, code })
  t.equal(verified.status, 200, 'a login through the configured provider')
})
