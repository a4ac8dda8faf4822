import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { TAP, Test } from 'tap'
import { BullMqDeliveryQueue } from '../../src/delivery/bullmq-delivery-queue.ts'
import type { QueuedJob } from '../../src/delivery/job-kinds.ts'
import { connectWithOwnPrefix, type TestRedisClient } from '../helpers/redis.ts'

const stallingWorker = fileURLToPath(new URL('../fixtures/stalling-delivery-worker.ts', import.meta.url))
const LOCK_MS = 1000

/**
 * A worker killed mid-send (SIGKILL: no close, no lock release) leaves its job active with a lock that is no
 * longer renewed; once the lock lapses, another worker's stalled check puts the job back and it is sent.
 */
/** A queue under its own prefix with one code job in it (its producer closed at teardown). */
async function queuedJob (t: Test, createClient: () => TestRedisClient, label: string, challengeId: string) {
  const { client, keyPrefix, close } = connectWithOwnPrefix(createClient, label)
  const prefix = `${keyPrefix}{delivery}`
  const producer = new BullMqDeliveryQueue({ connection: client, prefix, concurrency: 1, graceMs: 1000 })
  t.teardown(async () => {
    await producer.close()
    await close()
  })
  const job = { kind: 'code' as const, channel: 'sms' as const, sealed: 'k.i.c.t', challengeId, expiresAt: Date.now() + 300_000, locale: null, purpose: 'login' }
  await producer.enqueue(job)
  return { client, prefix, job }
}

/** The stalling worker (test/fixtures/stalling-delivery-worker.ts) on that queue; killed at teardown if still up. */
function spawnStallingWorker (t: Test, env: Record<string, string>) {
  const child = spawn(process.execPath, [stallingWorker], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return child
}

export function stalledJobTest (t: TAP, createClient: () => TestRedisClient, clientKind: 'redis' | 'cluster' = 'redis'): void {
  t.test('a job whose worker was killed mid-send is taken by another worker', async (t) => {
    const { client, prefix, job } = await queuedJob(t, createClient, 'test-dq-stalled', 'cd34.stalled-job-0000000000000')
    const child = spawnStallingWorker(t, { DQ_CLIENT: clientKind, DQ_PREFIX: prefix, DQ_LOCK_MS: String(LOCK_MS) })
    const exited = once(child, 'exit')
    let output = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        output += chunk
        if (output.includes(`SENDING ${job.challengeId}`)) resolve()
      })
      child.once('exit', () => reject(new Error(`the stalling worker exited before taking the job: ${output}`)))
    })
    child.kill('SIGKILL')
    await exited

    const survivor = new BullMqDeliveryQueue({
      connection: client, prefix, concurrency: 1, graceMs: 1000, lockDurationMs: LOCK_MS, stalledIntervalMs: 250
    })
    const taken: QueuedJob[] = []
    await new Promise<void>((resolve) => {
      survivor.start(async (queued) => {
        taken.push(queued)
        resolve()
        return 'sent'
      })
    })
    await survivor.close()
    t.equal(taken.length, 1, 'sent once by the surviving worker')
    t.match(taken[0], { kind: 'code', challengeId: job.challengeId, sealed: job.sealed }, 'with its sealed payload intact')
  })

  // BullMQ renews the locks of the jobs a close waits for; a close past the grace cannot become a forced one
  // (BullMQ hands back the first close), so a send that hangs kept that renewal going, and the process alive
  t.test('a close past the grace, its send still hanging, leaves nothing that keeps the process alive', async (t) => {
    const { prefix } = await queuedJob(t, createClient, 'test-dq-close-stuck', 'cd34.close-stuck-0000000000000')
    const child = spawnStallingWorker(t, { DQ_CLIENT: clientKind, DQ_PREFIX: prefix, DQ_LOCK_MS: String(LOCK_MS), DQ_CLOSE: '1' })
    let output = ''
    child.stdout.on('data', (chunk) => { output += chunk })
    const exited = once(child, 'exit').then(() => 'exited')
    // the grace (1 s), then at most BullMQ's moment to drop its connections; ten lock renewals (LOCK_MS / 2) later
    // a live timer would still be renewing
    const outcome = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000 + 10 * LOCK_MS, 'still running'))])
    t.match(output, /CLOSED/, 'closed while its send still hangs')
    t.equal(outcome, 'exited', 'and the process ended by itself')
    t.equal(child.exitCode, 0)
  })
}
