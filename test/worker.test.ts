import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { BullMqDeliveryQueue } from '../src/delivery/bullmq-delivery-queue.ts'
import { JobCipher, keyFromPepper, sealingContext } from '../src/delivery/job-cipher.ts'
import { RedisOutbox } from '../src/delivery/redis-outbox.ts'
import { requireEnv } from './helpers/build-app.ts'
import { loadConfig } from '../src/config.ts'
import { createOtpEngine } from '../src/otp/otp-engine.ts'
import { RedisOtpStore } from '../src/otp/redis-otp-store.ts'

const workerEntry = fileURLToPath(new URL('../src/worker.ts', import.meta.url))
const PEPPER = 'worker-test-pepper-0123456789abcdefghij'

interface Started {
  child: ChildProcess, stdout: () => string, stderr: () => string, exit: Promise<[number | null, string | null]>
}

/** `npm run worker` as a child process, with only the given environment, outside the repo. */
function run (env: Record<string, string>): Started {
  const child = spawn(process.execPath, [workerEntry], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk) => { out += chunk })
  child.stderr?.on('data', (chunk) => { err += chunk })
  return { child, stdout: () => out, stderr: () => err, exit: once(child, 'exit') as Promise<[number | null, string | null]> }
}

async function waitFor<T> (
  what: string, started: Started, probe: () => T | undefined | Promise<T | undefined>
): Promise<T> {
  for (let waited = 0; waited < 30_000; waited += 50) {
    const found = await probe()
    if (found !== undefined) return found
    if (started.child.exitCode !== null) throw new Error(`the worker exited: ${started.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${what} within 30 s`)
}

t.test('without Redis the worker refuses to start, in one line', async (t) => {
  const started = run({ OTP_PEPPER: PEPPER })
  const [code] = await started.exit
  t.not(code, 0)
  t.match(started.stderr().trim(), /^otp-gate worker: the queue lives in Redis: set REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES$/)
})

t.test('without a shared job key the worker refuses to start', async (t) => {
  const started = run({ REDIS_URL: requireEnv('REDIS_URL') })
  const [code] = await started.exit
  t.not(code, 0)
  t.match(started.stderr(), /set OTP_PEPPER or DELIVERY_JOB_KEY/)
})

t.test('the worker answers its health checks, sends a queued code and exits 0 on SIGTERM', async (t) => {
  const redis = new Redis(requireEnv('REDIS_URL'))
  const producer = new BullMqDeliveryQueue({ connection: redis, prefix: '{delivery}', concurrency: 1, graceMs: 1000 })
  t.teardown(async () => {
    await producer.close()
    await redis.quit()
  })
  const started = run({ REDIS_URL: requireEnv('REDIS_URL'), OTP_PEPPER: PEPPER, NODE_ENV: 'test', WORKER_PORT: '0', DEV_OUTBOX: 'true' })
  t.teardown(() => { if (started.child.exitCode === null) started.child.kill('SIGKILL') })
  const port = await waitFor('the worker did not listen', started, () => {
    const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(started.stdout())
    return match ? Number(match[1]) : undefined
  })

  const live = await fetch(`http://127.0.0.1:${port}/health/live`)
  t.equal(live.status, 200)
  t.same(await live.json(), { status: 'ok' })
  const ready = await fetch(`http://127.0.0.1:${port}/health/ready`)
  t.equal(ready.status, 200)
  t.same(await ready.json(), { status: 'ok', checks: { redis: 'ok' } })

  // challenges as the API issues them (same pepper, same store); the API seals with a key derived from the same
  // pepper; with DEV_OUTBOX the code lands in the dev outbox
  const otp = createOtpEngine(loadConfig({ NODE_ENV: 'test', OTP_PEPPER: PEPPER }), new RedisOtpStore(redis, { keyPrefix: 'otp:' }))
  const cipher = new JobCipher([keyFromPepper(PEPPER)])
  const enqueue = async (to: string, deliverable: boolean) => {
    const challenge = await otp.startChallenge({ purpose: 'login', channel: 'email', destination: to, deliverable })
    const job = { kind: 'code' as const, channel: 'email' as const, challengeId: challenge.challengeId, expiresAt: challenge.expiresAt.getTime(), locale: null, purpose: 'login' }
    await producer.enqueue({ ...job, sealed: cipher.seal({ code: challenge.code, to }, sealingContext(job)) })
    return challenge.code
  }
  const decoy = `worker-decoy-${Date.now()}@example.org`
  await enqueue(decoy, false)
  const to = `worker-${Date.now()}@example.org`
  const sentCode = await enqueue(to, true)
  const outbox = new RedisOutbox(redis, { keyPrefix: 'outbox:', keySecret: PEPPER })
  const [message] = await waitFor('the code was not delivered', started, async () => {
    const messages = await outbox.list(to)
    return messages.length > 0 ? messages : undefined
  })
  t.match(message, { channel: 'email', code: sentCode })
  t.same(await outbox.list(decoy), [], 'a decoy\'s job is dropped, not sent')
  // the outcome is logged once the message is in the outbox: it may reach stdout a moment later
  t.ok(await waitFor('the send was not logged', started, () => /"outcome":"sent"/.test(started.stdout()) || undefined))
  // a decoy's job is rehearsed (the provider's usual time) before it is dropped, so it may end after the real one
  t.ok(await waitFor('the decoy was not dropped', started, () => /"outcome":"dropped"/.test(started.stdout()) || undefined))
  t.notOk(started.stdout().includes(to) || started.stdout().includes(sentCode), 'the logs hold neither the code nor the address')

  started.child.kill('SIGTERM')
  const [code] = await started.exit
  t.equal(code, 0, 'exits 0 on SIGTERM')
})
