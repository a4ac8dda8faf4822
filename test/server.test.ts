import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { request } from 'node:http'

const serverEntry = fileURLToPath(new URL('../src/server.ts', import.meta.url))
const slowServer = fileURLToPath(new URL('./fixtures/slow-server.ts', import.meta.url))

interface Started { child: ChildProcess, stdout: () => string, stderr: () => string, exit: Promise<[number | null, string | null]> }

/** Runs a server process with only the given environment (no REDIS_URL/MONGODB_URL of the suite), outside the repo. */
function run (entry: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, [entry], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk) => { out += chunk })
  child.stderr?.on('data', (chunk) => { err += chunk })
  return { child, stdout: () => out, stderr: () => err, exit: once(child, 'exit') as Promise<[number | null, string | null]> }
}

async function listeningPort (started: Started, pattern: RegExp): Promise<number> {
  for (let waited = 0; waited < 30_000; waited += 50) {
    const match = pattern.exec(started.stdout())
    if (match) return Number(match[1])
    if (started.child.exitCode !== null) throw new Error(`server exited: ${started.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('server did not listen within 30 s')
}

function get (port: number, path: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('PORT=abc stops the process with one line naming PORT', async (t) => {
  const started = run(serverEntry, { PORT: 'abc' })
  const [code] = await started.exit
  t.not(code, 0)
  const lines = started.stderr().trim().split('\n')
  t.equal(lines.length, 1, 'one line')
  t.match(lines[0], /PORT: must be integer/)
})

t.test('production with nothing configured stops with one line naming what is missing', async (t) => {
  const started = run(serverEntry, { NODE_ENV: 'production' })
  const [code] = await started.exit
  t.not(code, 0)
  const lines = started.stderr().trim().split('\n')
  t.equal(lines.length, 1, 'one line')
  t.match(lines[0], /REDIS_URL \(or REDIS_CLUSTER_NODES\) is required in production/)
})

t.test('the embedded default answers /health/live and says loudly what it is', async (t) => {
  const started = run(serverEntry, { PORT: '0' })
  t.teardown(() => { started.child.kill('SIGKILL') })
  const port = await listeningPort(started, /Server listening at http:\/\/127\.0\.0\.1:(\d+)/)
  const live = await get(port, '/health/live')
  t.equal(live.status, 200)
  t.match(started.stdout(), /EMBEDDED MODE/)
  started.child.kill('SIGTERM')
  const [code] = await started.exit
  t.equal(code, 0, 'exits 0 on SIGTERM')
})

t.test('SIGTERM lets in-flight requests finish, refuses new connections and exits 0 within the grace period', async (t) => {
  const graceMs = 5000
  const started = run(slowServer, { PORT: '0', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: String(graceMs) })
  t.teardown(() => { started.child.kill('SIGKILL') })
  const port = await listeningPort(started, /LISTENING http:\/\/127\.0\.0\.1:(\d+)/)

  const inFlight = Array.from({ length: 20 }, () => get(port, '/test-only/slow'))
  await new Promise((resolve) => setTimeout(resolve, 300))
  const signalledAt = Date.now()
  started.child.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 200))

  await t.rejects(get(port, '/health/live'), { code: 'ECONNREFUSED' }, 'new connections are refused')
  const answers = await Promise.all(inFlight)
  t.same(answers.map((answer) => answer.status), Array(20).fill(200), 'every in-flight request got its normal answer')
  t.same(JSON.parse(answers[0]?.body ?? '{}'), { done: true })
  const [code] = await started.exit
  t.equal(code, 0, 'exit code 0')
  t.ok(Date.now() - signalledAt < graceMs, 'exited within the grace period')
})
