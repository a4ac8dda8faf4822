import type { Test } from 'tap'
import type { ThrottleLimits } from '../../src/throttle/throttling.ts'

/**
 * A code check as a store answers it: refused while a wait runs (ms left, nothing counted); refused, right or wrong,
 * while the subject is suspended (`suspended: true`, nothing counted); a wrong code answered with whether the owner
 * is to hear of the throttling now; a right one accepted (`suspended: false`).
 */
export type CodeAnswer = { waitMs: number } | { notify: boolean } | { suspended: boolean }

/** One subject (a destination, a TOTP subject) of a store, seen through that store's own operations. */
export interface ThrottledSubject {
  wrong (): Promise<CodeAnswer>
  right (): Promise<CodeAnswer>
  /** ends the run, the wait and the failure log (a recovery code, or an operator) */
  clear (): Promise<void>
}

export interface ThrottleHarness {
  /** a subject of its own, throttled under `limits` */
  subject (limits: ThrottleLimits): Promise<ThrottledSubject>
  /** lets time pass, for the store's expiries */
  elapse (ms: number): Promise<void>
}

// Times scaled by S (the harness's clock is made up, so longer waits cost nothing): Redis also counts its TTLs down
// in real time, and at waits of 1 s a loaded machine had half a second of slack; at S = 10 it has five.
const S = 10
const LIMITS: ThrottleLimits = {
  freeFailures: 2,
  baseDelayMs: 1000 * S,
  maxDelayMs: 4000 * S,
  suspendAfter: 100,
  memoryMs: 60_000 * S,
  noticeIntervalMs: 10_000 * S,
  suspendWindowMs: 86_400_000
}

/**
 * The one failure throttle of src/throttle/throttling.ts, as every adapter of every port that uses it answers: the
 * memory adapters run FailureThrottle, the Redis ones src/stores/redis-lua/failure-throttle.lua, and each must give
 * these answers, so codes and authenticator apps, memory and Redis, throttle alike.
 */
export function failureThrottleContract (t: Test, harness: ThrottleHarness): void {
  /** the wait a check meets now: within the time the store took to answer of `ms` */
  const waits = async (t: Test, check: Promise<CodeAnswer>, ms: number, message: string) => {
    const answer = await check
    const waitMs = 'waitMs' in answer ? answer.waitMs : 0
    t.ok(waitMs > ms - 500 * S && waitMs <= ms, `${message} (${waitMs} ms, ${ms} expected)`)
  }

  t.test('failure throttle: past the free failures each wrong code doubles the wait, up to the cap; one notice per interval', async (t) => {
    const subject = await harness.subject(LIMITS)
    t.same(await subject.wrong(), { notify: false }, 'a free failure')
    t.same(await subject.wrong(), { notify: false }, 'the last free failure')
    t.same(await subject.wrong(), { notify: true }, 'the first throttled failure: the owner is told')
    await waits(t, subject.right(), 1000 * S, 'even a right code waits the base')
    await waits(t, subject.wrong(), 1000 * S, 'a wrong code in the wait is not counted')
    await harness.elapse(1000 * S)
    t.same(await subject.wrong(), { notify: false }, 'not told again within the interval')
    await waits(t, subject.right(), 2000 * S, 'doubled')
    await harness.elapse(2000 * S)
    await subject.wrong()
    await waits(t, subject.right(), 4000 * S, 'doubled again')
    await harness.elapse(4000 * S)
    await subject.wrong()
    await waits(t, subject.right(), 4000 * S, 'capped')
    await harness.elapse(4000 * S)
    t.same(await subject.wrong(), { notify: true }, 'told again once the interval passed')
    await harness.elapse(4000 * S)
    t.same(await subject.right(), { suspended: false }, 'a right code after the wait')
    t.same([await subject.wrong(), await subject.wrong()], [{ notify: false }, { notify: false }], 'it ended the run: free failures again')
    t.same(await subject.right(), { suspended: false })
  })

  t.test('failure throttle: suspendAfter failures suspend; no code is checked nor counted then; clearing ends it', async (t) => {
    const subject = await harness.subject({ ...LIMITS, freeFailures: 10, suspendAfter: 3 })
    for (let failure = 0; failure < 3; failure++) t.same(await subject.wrong(), { notify: false })
    t.same(await subject.right(), { suspended: true }, 'even a right code is refused')
    t.same(await subject.wrong(), { suspended: true }, 'a wrong one too, uncounted')
    t.same(await subject.right(), { suspended: true }, 'still suspended')
    await subject.clear()
    t.same(await subject.right(), { suspended: false }, 'lifted')
    const other = await harness.subject({ ...LIMITS, freeFailures: 10, suspendAfter: 3 })
    t.same(await other.right(), { suspended: false }, 'per subject')
  })

  t.test('failure throttle: suspendAfter failures per window, successes or not; the suspension ends when the oldest leaves it', async (t) => {
    const subject = await harness.subject({ ...LIMITS, freeFailures: 10, suspendAfter: 3, suspendWindowMs: 50_000 * S })
    t.same(await subject.wrong(), { notify: false })
    await harness.elapse(10_000 * S)
    t.same(await subject.wrong(), { notify: false })
    t.same(await subject.right(), { suspended: false }, 'a success ends the run...')
    t.same(await subject.wrong(), { notify: false })
    t.same(await subject.right(), { suspended: true }, '...not the window: three failures within it suspend')
    await harness.elapse(39_000 * S)
    t.same(await subject.right(), { suspended: true }, 'until the oldest failure leaves the window')
    await harness.elapse(1000 * S)
    t.same(await subject.right(), { suspended: false }, 'then lifted by itself')
    t.same(await subject.wrong(), { notify: false }, 'one more failure...')
    t.same(await subject.right(), { suspended: true }, '...is the window\'s third again')
    await harness.elapse(10_000 * S)
    t.same(await subject.right(), { suspended: false }, 'lifted when the next oldest leaves')
  })

  t.test('failure throttle: clearing ends a wait and the run', async (t) => {
    const subject = await harness.subject(LIMITS)
    for (let failure = 0; failure < 3; failure++) await subject.wrong()
    await waits(t, subject.right(), 1000 * S, 'waiting')
    await subject.clear()
    t.same(await subject.right(), { suspended: false }, 'no wait')
    t.same([await subject.wrong(), await subject.wrong()], [{ notify: false }, { notify: false }], 'free failures again')
  })

  t.test('failure throttle: a run is forgotten memoryMs after its last failure', async (t) => {
    const subject = await harness.subject({ ...LIMITS, freeFailures: 1, memoryMs: 5000 * S })
    t.same(await subject.wrong(), { notify: false })
    await harness.elapse(4000 * S)
    t.same(await subject.wrong(), { notify: true }, 'remembered: the second failure is throttled')
    await harness.elapse(5000 * S)
    t.same(await subject.wrong(), { notify: false }, 'forgotten: a free failure again')
    t.same(await subject.wrong(), { notify: false }, 'throttled, within the notice interval')
    await waits(t, subject.right(), 1000 * S, 'a run of two: the base wait')
  })
}
