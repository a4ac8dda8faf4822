import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { MfaChallenge, MfaChallengeStore } from '../../src/totp/mfa-challenge-store.ts'

export interface MfaChallengeStoreHarness {
  store: MfaChallengeStore
  /** lets time pass: the memory store's clock moves, Redis really waits */
  elapse (ms: number): Promise<void>
  close (): Promise<void>
}

const tokenHash = () => randomBytes(32).toString('base64url')
const challenge = (): MfaChallenge => ({ userId: randomBytes(12).toString('hex'), kind: 'email', amr: ['otp'] })

/** The MfaChallengeStore contract (src/totp/mfa-challenge-store.ts), run against every adapter. */
export function mfaChallengeStoreContract (t: Test, createHarness: () => Promise<MfaChallengeStoreHarness>): void {
  let harness: MfaChallengeStoreHarness
  t.beforeEach(async () => { harness = await createHarness() })
  t.afterEach(async () => { await harness.close() })

  t.test('find reads without consuming; take consumes', async (t) => {
    const { store } = harness
    const hash = tokenHash()
    const saved = challenge()
    await store.save(hash, saved, 5000)
    t.same(await store.find(hash), saved)
    t.same(await store.find(hash), saved, 'still there')
    t.same(await store.take(hash), saved)
    t.equal(await store.find(hash), null)
    t.equal(await store.take(hash), null, 'taken once')
    t.equal(await store.find(tokenHash()), null, 'unknown')
  })

  t.test('of concurrent takes exactly one gets the challenge', async (t) => {
    const { store } = harness
    const hash = tokenHash()
    await store.save(hash, challenge(), 5000)
    const takes = await Promise.all(Array.from({ length: 10 }, () => store.take(hash)))
    t.equal(takes.filter((taken) => taken !== null).length, 1)
  })

  t.test('a challenge expires after its ttl', async (t) => {
    const { store } = harness
    const hash = tokenHash()
    await store.save(hash, challenge(), 200)
    await harness.elapse(250)
    t.equal(await store.find(hash), null)
    t.equal(await store.take(hash), null)
  })
}
