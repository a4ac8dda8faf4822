// Micro-benchmark of the OTP engine on RedisOtpStore: start, then verify (right code) operations per second
// with 50 in flight for 5 s each. Run with REDIS_URL set: `npm exec -- node bench/otp-store.ts`.
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { loadConfig } from '../src/config.ts'
import { OtpEngine } from '../src/otp/otp-engine.ts'
import { policyFromConfig } from '../src/otp/otp-policy.ts'
import { RedisOtpStore } from '../src/otp/redis-otp-store.ts'

const DURATION_MS = 5000
const CONCURRENCY = 50

const config = loadConfig()
if (config.REDIS_URL === undefined) throw new Error('REDIS_URL is not set: source .test-services/dev/env first')
const client = new Redis(config.REDIS_URL)
const keyPrefix = `bench:${randomBytes(4).toString('hex')}:`
const otp = new OtpEngine({
  store: new RedisOtpStore(client, { keyPrefix }),
  pepper: randomBytes(32).toString('base64url'),
  // every start has a destination of its own, so cooldown and quota never refuse; the scripts still run them
  policy: policyFromConfig(config)
})

/** Runs `operation` from CONCURRENCY loops until the time is up or it answers false. */
async function measure (name: string, operation: () => Promise<boolean>) {
  const latencies: number[] = []
  const started = performance.now()
  const deadline = started + DURATION_MS
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      const begin = performance.now()
      if (!await operation()) return
      latencies.push(performance.now() - begin)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const percentile = (p: number) => (latencies[Math.floor(latencies.length * p)] ?? 0).toFixed(2)
  console.log(`${name.padEnd(7)} ${Math.round(latencies.length / seconds)} ops/s (${latencies.length} in ${seconds.toFixed(2)} s, ${CONCURRENCY} in flight, p50 ${percentile(0.5)} ms, p99 ${percentile(0.99)} ms)`)
}

const issued: Array<{ challengeId: string, code: string }> = []
let next = 0
await client.ping()
console.log(`otp-store bench against ${config.REDIS_URL}`)
await measure('start', async () => {
  const { challengeId, code } = await otp.startChallenge({ purpose: 'login', channel: 'email', destination: `user-${next++}@bench.example` })
  issued.push({ challengeId, code })
  return true
})
await measure('verify', async () => {
  const challenge = issued.pop()
  if (challenge === undefined) return false
  await otp.verifyChallenge({ ...challenge, purpose: 'login' })
  return true
})

// every key has a TTL anyway; this just leaves the server as it was
let removed = 0
for await (const keys of client.scanStream({ match: `${keyPrefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
  if (keys.length > 0) removed += await client.unlink(...keys)
}
console.log(`removed ${removed} bench keys`)
await client.quit()
