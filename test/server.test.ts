import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { request } from 'node:http'
import { eventually } from './helpers/eventually.ts'

const serverEntry = fileURLToPath(new URL('../src/server.ts', import.meta.url))
const slowServer = fileURLToPath(new URL('./fixtures/slow-server.ts', import.meta.url))

interface Started {
  child: ChildProcess, stdout: () => string, stderr: () => string, exit: Promise<[number | null, string | null]>
}

/** Runs a server process with only the given environment (no REDIS_URL/MONGODB_URL of the suite), outside the repo. */
function run (entry: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, [entry], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk) => { out += chunk; child.emit('stdout') })
  child.stderr?.on('data', (chunk) => { err += chunk })
  return { child, stdout: () => out, stderr: () => err, exit: once(child, 'exit') as Promise<[number | null, string | null]> }
}

/** Resolves once the process's stdout matches `pattern` (tap's timeout bounds the wait); rejects if it exits first. */
function printed (started: Started, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const look = () => {
      const match = pattern.exec(started.stdout())
      if (!match) return
      started.child.off('stdout', look)
      resolve(match)
    }
    started.child.on('stdout', look)
    started.exit.then(() => reject(new Error(`the process exited: ${started.stderr()}`)), reject)
    look()
  })
}

const listeningPort = async (started: Started, pattern: RegExp) => Number((await printed(started, pattern))[1])

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
  t.match(lines[0], /REDIS_URL is required in production, or REDIS_SENTINELS or REDIS_CLUSTER_NODES/)
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

t.test('SIGTERM lets in-flight requests finish, refuses new connections and exits 0 without waiting out the grace', async (t) => {
  // no load shedding: on a busy machine it could refuse some of the 20 before they arrive
  const started = run(slowServer, { PORT: '0', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '60000', MAX_EVENT_LOOP_DELAY_MS: '60000' })
  t.teardown(() => { started.child.kill('SIGKILL') })
  const port = await listeningPort(started, /LISTENING http:\/\/127\.0\.0\.1:(\d+)/)

  const inFlight = Array.from({ length: 20 }, () => get(port, '/test-only/slow'))
  await printed(started, /(?:ARRIVED\n){20}/)
  started.child.kill('SIGTERM')
  // the listener closes while the 20 are held: a connection is refused once it has
  const refused = await eventually(() => get(port, '/health/live').then(() => false, (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED'), 10_000)
  t.ok(refused, 'new connections are refused while requests are in flight')
  started.child.stdin?.write('release\n')
  const answers = await Promise.all(inFlight)
  t.same(answers.map((answer) => answer.status), Array(20).fill(200), 'every in-flight request got its normal answer')
  t.same(JSON.parse(answers[0]?.body ?? '{}'), { done: true })
  const [code] = await started.exit
  t.equal(code, 0, 'exit code 0: closed, not cut off by the 60 s grace')
})
