import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { MemoryOtpStore } from '../../src/otp/memory-otp-store.ts'
import { OtpEngine } from '../../src/otp/otp-engine.ts'
import { DEFAULT_POLICY } from '../contract/otp-store.ts'

t.test('the sweep timer drops expired entries; close stops it', async (t) => {
  let clock = 0
  const store = new MemoryOtpStore({ now: () => clock, sweepIntervalMs: 5 })
  const otp = new OtpEngine({ store, pepper: 'p'.repeat(32), policy: { ...DEFAULT_POLICY, ttlSeconds: 1 } })
  const issued = await otp.startChallenge({ purpose: 'login', channel: 'email', destination: 'sweep@example.org' })
  await otp.verifyChallenge({ challengeId: issued.challengeId, code: '!', purpose: 'login' }).catch(() => {})
  t.equal(store.size, 6, 'challenge, pointer, cooldown, quota, the run of failures and their log')
  // the daily quota and a run of failures are the longest lived
  clock += 31 * 86_400_000
  await sleep(30)
  t.equal(store.size, 0, 'all swept')
  await store.close()
})
