import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { freePort } from '../helpers/disposable-server.ts'
import { requireEnv } from '../helpers/build-app.ts'

const entry = (name: string) => fileURLToPath(new URL(`../../src/${name}.ts`, import.meta.url))

/** A process with only the given environment, outside the repo; killed at teardown. */
function run (t: Test, script: string, env: Record<string, string>): ChildProcess {
  // no load shedding: on a busy CI machine two workers' event loops lag without the server being overloaded
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', MAX_EVENT_LOOP_DELAY_MS: '60000' }
  const child = spawn(process.execPath, [entry(script)], { cwd: tmpdir(), env: { ...base, ...env }, stdio: 'ignore' })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  })
  return child
}

/** GET on a new connection each time, so node:cluster hands requests to different workers. */
function send (port: number, method: string, path: string, body?: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' }
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function until<T> (what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let waited = 0; waited < 30_000; waited += 100) {
    const found = await probe().catch(() => undefined)
    if (found !== undefined) return found
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${what} within 30 s`)
}

const value = (text: string, series: RegExp) => text.split('\n').filter((line) => series.test(line)).reduce((sum, line) => sum + Number(line.split(' ').pop()), 0)

t.test('WORKERS=2: the primary serves one /metrics for the instance, summed over its workers', async (t) => {
  const [port, metricsPort] = [await freePort(), await freePort()]
  run(t, 'server', { PORT: String(port), METRICS_PORT: String(metricsPort), WORKERS: '2' })
  await until('the API did not answer', async () => (await send(port, 'GET', '/health/live')).status === 200 || undefined)
  const requests = 40
  for (let sent = 1; sent < requests; sent++) t.equal((await send(port, 'GET', '/health/live')).status, 200)
  t.equal((await send(port, 'POST', '/v1/auth/otp', JSON.stringify({ email: 'cluster@example.org' }))).status, 202)
  t.equal((await send(port, 'GET', '/metrics')).status, 404, 'not on the API port')

  const text = await until('no metrics', async () => {
    const scraped = await send(metricsPort, 'GET', '/metrics')
    return scraped.status === 200 ? scraped.body : undefined
  })
  t.equal(value(text, /^http_request_duration_seconds_count\{.*route="\/health\/live"/), requests, 'every request, whichever worker answered')
  t.equal(value(text, /^otp_challenges_started_total\{channel="email",country="email"\}/), 1)
  t.match(text, /^otp_conversion_ratio\{channel="email",country="email"\} 0$/m, 'the ratio from the summed counts')
  t.match(text, /^nodejs_heap_size_used_bytes /m, 'Node defaults')
})

t.test('npm run worker serves its own /metrics on its METRICS_PORT', async (t) => {
  const metricsPort = await freePort()
  run(t, 'worker', { REDIS_URL: requireEnv('REDIS_URL'), OTP_PEPPER: 'metrics-worker-pepper-0123456789abcdef', NODE_ENV: 'test', WORKER_PORT: '0', DEV_OUTBOX: 'true', METRICS_PORT: String(metricsPort) })
  const text = await until('the worker served no metrics', async () => {
    const scraped = await send(metricsPort, 'GET', '/metrics')
    return scraped.status === 200 ? scraped.body : undefined
  })
  t.match(text, /^# TYPE otp_deliveries_total counter$/m)
  t.match(text, /^# TYPE store_errors_total counter$/m)
  t.match(text, /^nodejs_eventloop_lag_seconds /m)
  t.notMatch(text, /otp_conversion_ratio/, 'no API gauges')
})
