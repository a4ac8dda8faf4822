import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { PasskeyChallengeStore, PendingPasskeyChallenge } from '../../src/passkeys/passkey-challenge-store.ts'

export interface PasskeyChallengeStoreHarness {
  store: PasskeyChallengeStore
  /** lets time pass: the memory store's clock moves, Redis really waits */
  elapse (ms: number): Promise<void>
  close (): Promise<void>
}

const challenge = () => randomBytes(32).toString('base64url')
const pending = (): PendingPasskeyChallenge => ({ purpose: 'second_factor', binding: randomBytes(32).toString('base64url') })

/** The PasskeyChallengeStore contract (src/passkeys/passkey-challenge-store.ts), run against every adapter. */
export function passkeyChallengeStoreContract (
  t: Test, createHarness: () => Promise<PasskeyChallengeStoreHarness>
): void {
  let harness: PasskeyChallengeStoreHarness
  t.beforeEach(async () => { harness = await createHarness() })
  t.afterEach(async () => { await harness.close() })

  t.test('take answers the saved challenge once', async (t) => {
    const { store } = harness
    const key = challenge()
    const saved = pending()
    await store.save(key, saved, 5000)
    t.same(await store.take(key), saved)
    t.equal(await store.take(key), null, 'single use')
    t.equal(await store.take(challenge()), null, 'unknown')
    await store.save(key + 'x', { purpose: 'sign_in', binding: 'b' }, 5000)
    t.same(await store.take(key + 'x'), { purpose: 'sign_in', binding: 'b' })
  })

  t.test('of concurrent takes exactly one gets the challenge', async (t) => {
    const { store } = harness
    const key = challenge()
    await store.save(key, pending(), 5000)
    const takes = await Promise.all(Array.from({ length: 10 }, () => store.take(key)))
    t.equal(takes.filter((taken) => taken !== null).length, 1)
  })

  t.test('a challenge expires after its ttl', async (t) => {
    const { store } = harness
    const key = challenge()
    await store.save(key, pending(), 200)
    await harness.elapse(250)
    t.equal(await store.take(key), null)
  })
}
