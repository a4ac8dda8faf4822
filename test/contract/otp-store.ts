import { randomBytes } from 'node:crypto'
import type { TAP } from 'tap'
import { AppError } from '../../src/errors.ts'
import {
  CHALLENGE_ID_PATTERN, OtpEngine, type IssuedChallenge, type OtpEngineOptions, type OtpPolicy, type VerifiedChallenge
} from '../../src/otp/otp-engine.ts'
import type { OtpStore, SendLimits } from '../../src/otp/otp-store.ts'
import { LINK_TOKEN_PATTERN, newChallengeId } from '../../src/otp/codes.ts'
import type { ThrottleLimits } from '../../src/throttle/throttling.ts'
import { failureThrottleContract, type CodeAnswer, type ThrottledSubject } from './failure-throttle.ts'
import { parseTestIdentifiers } from '../../src/otp/test-identifiers.ts'
import { RedisOtpStore } from '../../src/otp/redis-otp-store.ts'
import { connectWithOwnPrefix, elapseKeys, type TestRedisClient } from '../helpers/redis.ts'

export interface OtpStoreHarness {
  store: OtpStore
  /** the store's clock in epoch ms */
  now (): number
  /** lets time pass: the memory store's clock moves, Redis really waits (its clock is its own) */
  elapse (ms: number): Promise<void>
  /** the keys the store holds, with their PTTL (-1 = no TTL); adapters with key names (Redis) provide it */
  listKeys?: () => Promise<Array<{ key: string, pttl: number }>>
  close (): Promise<void>
}

/**
 * A Redis (or Cluster) store whose scripts take the time from the harness's clock, while `elapse` shrinks the TTLs
 * by as much: the suite moves time instead of sleeping.
 */
export function redisOtpHarness (createClient: () => TestRedisClient, label: string): OtpStoreHarness {
  const { client, keyPrefix, listKeys, close } = connectWithOwnPrefix(createClient, label)
  let clock = Date.now()
  const now = () => clock
  const elapse = async (ms: number) => {
    clock += ms
    await elapseKeys(client, keyPrefix, ms)
  }
  return { store: new RedisOtpStore(client, { keyPrefix, now }), now, elapse, listKeys, close }
}

const PEPPER = 'contract-pepper-0123456789abcdefghijklmnop'
const NEXT_PEPPER = 'contract-pepper-rotated-0123456789abcdefgh'
export const DEFAULT_POLICY: OtpPolicy = {
  codeLength: 6,
  ttlSeconds: 300,
  maxAttempts: 5,
  cooldownSeconds: 30,
  quota: 5,
  quotaWindowSeconds: 900,
  dailyQuota: 20,
  throttleAfterFailures: 5,
  throttleMaxSeconds: 900,
  suspendAfterFailures: 100
}

async function failure (promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof AppError) return error
    throw error
  }
  throw new Error('expected an AppError, the call succeeded')
}

/** A verify's answer without its reinstate function, to compare with the challenge that was started. */
async function verified (answer: Promise<VerifiedChallenge>) {
  const { reinstate: _reinstate, ...details } = await answer
  return details
}

/** What verifying `issued` hands back: the challenge as it was started. */
const detailsOf = ({ challengeId, purpose, channel, destination, userId, locale, deliverable }: IssuedChallenge) =>
  ({ challengeId, purpose, channel, destination, userId, locale, deliverable })

/** What a start or resend for `destination` hands back, whatever the code. */
const issuedFor = (destination: string, purpose = 'login') =>
  ({ challengeId: new RegExp(CHALLENGE_ID_PATTERN), purpose, destination, code: /^\d+$/, expiresAt: Date, resendAfter: Date })

const otherCode = (code: string) => String((Number(code) + 1) % 10 ** code.length).padStart(code.length, '0')

// a day-long code, and sends that are neither checked nor counted: the throttle alone is under test
const UNMETERED: SendLimits = {
  ttlMs: 86_400_000, exempt: true, cooldownMs: 0, quota: 1, quotaWindowMs: 1000, dailyQuota: 1, dailyWindowMs: 1000
}

/** A destination of `store` under the failure throttle contract: wrong and right codes of a pending challenge. */
async function throttledDestination (store: OtpStore, limits: ThrottleLimits): Promise<ThrottledSubject> {
  const destinationKey = randomBytes(16).toString('hex')
  const start = async () => {
    const challengeId = newChallengeId(destinationKey)
    const payload = {
      purpose: 'login', channel: 'email' as const, destination: 'throttled', userId: null, locale: null, deliverable: true
    }
    await store.startChallenge({ challengeId, destinationKey, payload, codeHash: 'right', linkHash: 'link', maxAttempts: 1000 }, UNMETERED, limits)
    return challengeId
  }
  let challengeId = await start()
  const verify = async (hash: string): Promise<CodeAnswer> => {
    const answer = await store.verifyChallenge(challengeId, 'login', [hash], limits)
    if (answer.outcome === 'throttled') return { waitMs: answer.retryAfterMs }
    if (answer.outcome === 'suspended') return { suspended: true }
    if (answer.outcome === 'verified') {
      challengeId = await start()
      return { suspended: false }
    }
    if (answer.outcome === 'invalid') return { notify: answer.notify }
    throw new Error(`unexpected ${answer.outcome}`)
  }
  return {
    wrong: () => verify('wrong'),
    right: () => verify('right'),
    clear: () => store.clearFailures(destinationKey)
  }
}

/** Every behaviour of the OtpStore contract, driven through the engine, against the adapter `createHarness` builds. */
export function otpStoreContract (t: TAP, createHarness: () => Promise<OtpStoreHarness>): void {
  let harness: OtpStoreHarness
  const destinations: string[] = []
  const email = (label: string) => {
    const address = `otp-${label}-${randomBytes(4).toString('hex')}@example.org`
    destinations.push(address)
    return address
  }
  const phone = () => {
    const number = `+4479${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`
    destinations.push(number)
    return number
  }
  const engine = (policy: Partial<OtpPolicy> = {}, options: Partial<OtpEngineOptions> = {}) =>
    new OtpEngine({ store: harness.store, pepper: PEPPER, ...options, policy: { ...DEFAULT_POLICY, ...policy } })
  const login = (
    destination: string, extra: { userId?: string, locale?: string, deliverable?: boolean, purpose?: string, lane?: 'anonymous' | 'owner' } = {}
  ) => ({ purpose: 'login', channel: 'email' as const, destination, ...extra })

  t.before(async () => { harness = await createHarness() })
  t.teardown(async () => { await (harness as OtpStoreHarness | undefined)?.close() })

  failureThrottleContract(t, {
    subject: (limits) => throttledDestination(harness.store, limits),
    elapse: (ms) => harness.elapse(ms)
  })

  t.test('a code verifies once and hands back the challenge', async (t) => {
    const otp = engine()
    const destination = email('once')
    const before = harness.now()
    const issued = await otp.startChallenge(login(destination, { userId: 'user-1', locale: 'fr' }))
    t.match(issued.challengeId, new RegExp(CHALLENGE_ID_PATTERN))
    t.match(issued.code, /^\d{6}$/)
    const { code: _code, challengeId: _id, expiresAt: _expiresAt, resendAfter: _resendAfter, ...rest } = issued
    t.strictSame(rest, {
      purpose: 'login', channel: 'email', destination, userId: 'user-1', locale: 'fr', deliverable: true, isTestIdentifier: false, linkToken: null
    })
    t.equal(issued.expiresAt.getTime() - issued.resendAfter.getTime(), 270_000, 'expiry and resend time come from one clock reading')
    t.ok(Math.abs(issued.expiresAt.getTime() - before - 300_000) < 2000, 'expires after the TTL')

    const { reinstate, ...verified } = await otp.verifyChallenge({ challengeId: issued.challengeId, code: issued.code, purpose: 'login' })
    t.type(reinstate, 'function')
    t.same(verified, { challengeId: issued.challengeId, purpose: 'login', channel: 'email', destination, userId: 'user-1', locale: 'fr', deliverable: true })
    const again = await failure(otp.verifyChallenge({ challengeId: issued.challengeId, code: issued.code, purpose: 'login' }))
    t.equal(again.code, 'challenge_expired', 'single use')
  })

  t.test('a decoy is stored and counted like a real challenge', async (t) => {
    const otp = engine()
    const issued = await otp.startChallenge({ purpose: 'login', channel: 'sms', destination: phone(), deliverable: false })
    t.equal(issued.deliverable, false)
    const wrong = await failure(otp.verifyChallenge({ challengeId: issued.challengeId, code: otherCode(issued.code), purpose: 'login' }))
    t.same([wrong.code, wrong.extensions], ['invalid_code', { remainingAttempts: 4 }])
    const verified = await otp.verifyChallenge({ challengeId: issued.challengeId, code: issued.code, purpose: 'login' })
    t.same([verified.deliverable, verified.userId, verified.locale, verified.channel], [false, null, null, 'sms'])
  })

  t.test('wrong codes count down to too_many_attempts, and then the right code is refused', async (t) => {
    const otp = engine({ maxAttempts: 3 })
    const { challengeId, code } = await otp.startChallenge(login(email('attempts')))
    const answers = []
    for (let i = 0; i < 3; i++) answers.push(await failure(otp.verifyChallenge({ challengeId, code: otherCode(code), purpose: 'login' })))
    t.same(answers.map((error) => [error.code, error.extensions.remainingAttempts]), [['invalid_code', 2], ['invalid_code', 1], ['too_many_attempts', undefined]])
    t.equal(answers[2]?.status, 429)
    t.equal((await failure(otp.verifyChallenge({ challengeId, code, purpose: 'login' }))).code, 'challenge_expired')
  })

  t.test('100 concurrent wrong codes: exactly maxAttempts are counted', async (t) => {
    const otp = engine()
    const { challengeId, code } = await otp.startChallenge(login(email('race-wrong')))
    const answers = await Promise.all(Array.from({ length: 100 }, () => failure(otp.verifyChallenge({ challengeId, code: otherCode(code), purpose: 'login' }))))
    const count = (name: string) => answers.filter((error) => error.code === name).length
    t.equal(count('invalid_code') + count('too_many_attempts'), 5, 'attempts counted')
    t.equal(count('too_many_attempts'), 1)
    t.equal(count('challenge_expired'), 95, 'the rest find the challenge gone')
    t.same(answers.filter((error) => error.code === 'invalid_code').map((error) => error.extensions.remainingAttempts).sort(), [1, 2, 3, 4])
    t.equal((await failure(otp.verifyChallenge({ challengeId, code, purpose: 'login' }))).code, 'challenge_expired')
  })

  t.test('20 concurrent right codes: exactly one succeeds', async (t) => {
    const otp = engine()
    const { challengeId, code } = await otp.startChallenge(login(email('race-right')))
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => otp.verifyChallenge({ challengeId, code, purpose: 'login' })))
    t.equal(results.filter((result) => result.status === 'fulfilled').length, 1)
    const codes = results.flatMap((result) => result.status === 'rejected' ? [(result.reason as AppError).code] : [])
    t.same(new Set(codes), new Set(['challenge_expired']))
  })

  t.test('a challenge lapses with its TTL', async (t) => {
    const otp = engine({ ttlSeconds: 1, cooldownSeconds: 0 })
    const destination = email('ttl')
    const issued = await otp.startChallenge(login(destination))
    const kept = await otp.startChallenge(login(destination, { purpose: 'verify_contact' }))
    await harness.elapse(1100)
    t.equal((await failure(otp.verifyChallenge({ challengeId: issued.challengeId, code: issued.code, purpose: 'login' }))).code, 'challenge_expired')
    t.equal((await failure(otp.resendChallenge(kept.challengeId))).code, 'challenge_expired', 'resend too')
    const fresh = await otp.startChallenge(login(destination))
    t.same(await verified(otp.verifyChallenge({ challengeId: fresh.challengeId, code: fresh.code, purpose: 'login' })), detailsOf(fresh), 'a new code works')
  })

  t.test('another purpose is answered like an unknown id and consumes nothing', async (t) => {
    const otp = engine()
    const issued = await otp.startChallenge(login(email('purpose')))
    const { challengeId, code } = issued
    for (let i = 0; i < 6; i++) {
      const error = await failure(otp.verifyChallenge({ challengeId, code: i % 2 === 0 ? code : otherCode(code), purpose: 'verify_contact' }))
      t.equal(error.code, 'challenge_expired')
    }
    const wrong = await failure(otp.verifyChallenge({ challengeId, code: otherCode(code), purpose: 'login' }))
    t.same(wrong.extensions, { remainingAttempts: 4 }, 'no attempt was used by the other purpose')
    t.same(await verified(otp.verifyChallenge({ challengeId, code, purpose: 'login' })), detailsOf(issued))
  })

  t.test('unknown and malformed ids', async (t) => {
    const otp = engine()
    for (const challengeId of ['0000.AAAAAAAAAAAAAAAAAAAAAA', 'nope', '']) {
      t.equal((await failure(otp.verifyChallenge({ challengeId, code: '123456', purpose: 'login' }))).code, 'challenge_expired')
      t.equal((await failure(otp.resendChallenge(challengeId))).code, 'challenge_expired')
      await otp.withdrawChallenge(challengeId)
    }
  })

  t.test('a new code for the same destination and purpose invalidates the previous one', async (t) => {
    const otp = engine({ cooldownSeconds: 0 })
    const destination = email('replace')
    const first = await otp.startChallenge(login(destination))
    const contact = await otp.startChallenge(login(destination, { purpose: 'verify_contact' }))
    const second = await otp.startChallenge(login(destination))
    t.not(second.challengeId, first.challengeId)
    t.equal((await failure(otp.verifyChallenge({ challengeId: first.challengeId, code: first.code, purpose: 'login' }))).code, 'challenge_expired')
    t.same(await verified(otp.verifyChallenge({ challengeId: second.challengeId, code: second.code, purpose: 'login' })), detailsOf(second))
    t.same(await verified(otp.verifyChallenge({ challengeId: contact.challengeId, code: contact.code, purpose: 'verify_contact' })), detailsOf(contact), 'other purposes are untouched')
  })

  t.test('cooldown per destination and purpose, lifted when it lapses', async (t) => {
    const destination = email('cooldown')
    await engine().startChallenge(login(destination))
    const error = await failure(engine().startChallenge(login(destination)))
    t.same([error.code, error.retryAfter, error.status], ['cooldown', 30, 429])
    t.match(await engine().startChallenge(login(destination, { purpose: 'verify_contact' })), issuedFor(destination, 'verify_contact'), 'another purpose has its own cooldown')
    const other = email('cooldown-other')
    t.match(await engine().startChallenge(login(other)), issuedFor(other), 'another destination too')

    const short = engine({ cooldownSeconds: 1 })
    const quick = email('cooldown-short')
    const issued = await short.startChallenge(login(quick))
    t.equal(issued.resendAfter.getTime() - issued.expiresAt.getTime(), 1000 - 300_000)
    t.equal((await failure(short.startChallenge(login(quick)))).retryAfter, 1)
    await harness.elapse(1100)
    t.match(await short.startChallenge(login(quick)), issuedFor(quick), 'allowed once the cooldown lapsed')
  })

  t.test('send quota per destination, freed as its window slides', async (t) => {
    const otp = engine({ cooldownSeconds: 0, quota: 2 })
    const destination = email('quota')
    await otp.startChallenge(login(destination))
    await otp.startChallenge(login(destination, { purpose: 'verify_contact' }))
    for (const purpose of ['login', 'verify_contact']) {
      const error = await failure(otp.startChallenge(login(destination, { purpose })))
      t.same([error.code, error.retryAfter], ['rate_limited', 900], `${purpose} shares the destination's quota`)
      t.match(error.detail, /codes/)
    }

    const short = engine({ cooldownSeconds: 0, quota: 2, quotaWindowSeconds: 2 })
    const quick = email('quota-short')
    await short.startChallenge(login(quick))
    await short.startChallenge(login(quick))
    t.equal((await failure(short.startChallenge(login(quick)))).retryAfter, 2)
    await harness.elapse(2100)
    t.match(await short.startChallenge(login(quick)), issuedFor(quick), 'allowed once the window lapsed')
  })

  t.test('throttling: past the free failures each wrong code makes the next check wait longer; sends go on', async (t) => {
    const otp = engine({ cooldownSeconds: 0, throttleAfterFailures: 2, throttleMaxSeconds: 1 })
    const destination = email('throttle')
    const first = await otp.startChallenge(login(destination))
    for (let i = 0; i < 2; i++) await failure(otp.verifyChallenge({ challengeId: first.challengeId, code: otherCode(first.code), purpose: 'login' }))
    const second = await otp.startChallenge(login(destination))
    const third = await failure(otp.verifyChallenge({ challengeId: second.challengeId, code: otherCode(second.code), purpose: 'login' }))
    t.same([third.code, third.extensions], ['invalid_code', { remainingAttempts: 4 }], 'a new code does not end the run; the third failure is answered')
    const waiting = await failure(otp.verifyChallenge({ challengeId: second.challengeId, code: second.code, purpose: 'login' }))
    t.same([waiting.code, waiting.retryAfter], ['rate_limited', 1], 'even the right code waits')
    t.match(waiting.detail, /wrong codes/)
    const fresh = await otp.startChallenge(login(destination, { purpose: 'verify_contact' }))
    t.match(fresh, { purpose: 'verify_contact' }, 'a throttled destination still gets codes: nobody can lock it out')
    await harness.elapse(1100)
    await failure(otp.verifyChallenge({ challengeId: second.challengeId, code: otherCode(second.code), purpose: 'login' }))
    t.equal((await failure(otp.verifyChallenge({ challengeId: second.challengeId, code: second.code, purpose: 'login' }))).retryAfter, 1, 'capped')
    await harness.elapse(1100)
    t.match(await otp.verifyChallenge({ challengeId: second.challengeId, code: second.code, purpose: 'login' }), { destination }, 'the right code after the wait')
    const after = await otp.startChallenge(login(destination))
    for (let i = 0; i < 2; i++) {
      t.equal((await failure(otp.verifyChallenge({ challengeId: after.challengeId, code: otherCode(after.code), purpose: 'login' }))).code, 'invalid_code', 'the success ended the run')
    }
  })

  t.test('suspension: codes are refused unchecked, a start hands out a link instead, which signs in once', async (t) => {
    const otp = engine({ cooldownSeconds: 0, quota: 20, throttleAfterFailures: 10, suspendAfterFailures: 3 })
    const destination = email('suspend')
    const guessed = await otp.startChallenge(login(destination))
    t.equal(guessed.linkToken, null, 'not suspended: a code, no link')
    for (let i = 0; i < 3; i++) await failure(otp.verifyChallenge({ challengeId: guessed.challengeId, code: otherCode(guessed.code), purpose: 'login' }))
    const first = await otp.startChallenge(login(destination))
    t.match(first.linkToken, new RegExp(LINK_TOKEN_PATTERN), 'suspended: a link token')
    const refused = await failure(otp.verifyChallenge({ challengeId: first.challengeId, code: first.code, purpose: 'login' }))
    t.equal(refused.code, 'login_suspended', 'even the right code is refused')
    t.ok(refused.retryAfter !== undefined && refused.retryAfter > 86_000, `until the window frees (${refused.retryAfter} s)`)
    const wrongLink = await failure(otp.verifyLink({ token: `${first.challengeId}.${'A'.repeat(43)}`, purpose: 'login' }))
    t.equal(wrongLink.code, 'challenge_expired', 'a wrong link secret')
    t.equal((await failure(otp.verifyLink({ token: first.linkToken!, purpose: 'verify_contact' }))).code, 'challenge_expired', 'another purpose')
    t.same(await verified(otp.verifyLink({ token: first.linkToken!, purpose: 'login' })), detailsOf(first), 'the link signs in')
    t.equal((await failure(otp.verifyLink({ token: first.linkToken!, purpose: 'login' }))).code, 'challenge_expired', 'once')
    const resent = await otp.resendChallenge((await otp.startChallenge(login(destination))).challengeId)
    t.match(resent.linkToken, new RegExp(LINK_TOKEN_PATTERN), 'a resend too')
    t.same(await verified(otp.verifyLink({ token: resent.linkToken!, purpose: 'login' })), detailsOf(resent))
    t.equal((await otp.startChallenge(login(destination, { purpose: 'verify_contact' }))).linkToken, null, 'only a sign-in gets a link')
    const decoy = await otp.startChallenge(login(destination, { deliverable: false }))
    t.match(await verified(otp.verifyLink({ token: decoy.linkToken!, purpose: 'login' })), { deliverable: false }, 'a decoy\'s link is verified as a decoy: the caller refuses it')
    await otp.clearFailures('email', destination)
    const third = await otp.startChallenge(login(destination))
    t.equal(third.linkToken, null, 'lifted: a code again')
    t.same(await verified(otp.verifyChallenge({ challengeId: third.challengeId, code: third.code, purpose: 'login' })), detailsOf(third))
  })

  t.test('lanes: the owner lane has its own pointer, cooldown, quotas and throttle', async (t) => {
    const otp = engine({ throttleAfterFailures: 10, suspendAfterFailures: 3, dailyQuota: 4, quota: 4 })
    const destination = email('lanes')
    const anonymous = await otp.startChallenge(login(destination))
    const owner = await otp.startChallenge(login(destination, { lane: 'owner' }))
    t.equal((await failure(otp.startChallenge(login(destination)))).code, 'cooldown', 'the anonymous lane cools down')
    for (let i = 0; i < 3; i++) await failure(otp.verifyChallenge({ challengeId: anonymous.challengeId, code: otherCode(anonymous.code), purpose: 'login' }))
    t.equal(owner.linkToken, null)
    t.same(await verified(otp.verifyChallenge({ challengeId: owner.challengeId, code: owner.code, purpose: 'login' })), detailsOf(owner),
      'the anonymous lane suspended and cooling down: the owner lane\'s challenge, started before, still verifies')
    await harness.elapse(31_000)
    for (let i = 0; i < 3; i++) {
      await otp.startChallenge(login(destination))
      await harness.elapse(31_000)
    }
    t.equal((await failure(otp.startChallenge(login(destination)))).code, 'rate_limited', 'the anonymous quota is spent')
    const again = await otp.startChallenge(login(destination, { lane: 'owner' }))
    t.equal(again.linkToken, null, 'the owner lane: a code, not suspended')
    t.same(await verified(otp.verifyChallenge({ challengeId: again.challengeId, code: again.code, purpose: 'login' })), detailsOf(again))
  })

  t.test('the owner hears of throttling once per interval; a decoy nobody owns never', async (t) => {
    const notified: string[] = []
    const otp = engine(
      { cooldownSeconds: 0, throttleAfterFailures: 1, throttleMaxSeconds: 1 },
      { onThrottled: (payload) => notified.push(payload.destination) }
    )
    const destination = email('notice')
    const issued = await otp.startChallenge(login(destination))
    await failure(otp.verifyChallenge({ challengeId: issued.challengeId, code: otherCode(issued.code), purpose: 'login' }))
    t.same(notified, [], 'not for a free failure')
    await failure(otp.verifyChallenge({ challengeId: issued.challengeId, code: otherCode(issued.code), purpose: 'login' }))
    t.same(notified, [destination], 'at the first throttle step')
    await harness.elapse(1100)
    await failure(otp.verifyChallenge({ challengeId: issued.challengeId, code: otherCode(issued.code), purpose: 'login' }))
    t.same(notified, [destination], 'not again within the hour')

    const decoy = email('notice-decoy')
    const fake = await otp.startChallenge(login(decoy, { deliverable: false }))
    for (let i = 0; i < 2; i++) await failure(otp.verifyChallenge({ challengeId: fake.challengeId, code: otherCode(fake.code), purpose: 'login' }))
    t.same(notified, [destination], 'a decoy is throttled like a real one, and nobody is told')
  })

  t.test('a daily quota per destination on top of the short one', async (t) => {
    const otp = engine({ cooldownSeconds: 0, quota: 3, quotaWindowSeconds: 1, dailyQuota: 4 })
    const destination = email('daily')
    for (let i = 0; i < 3; i++) await otp.startChallenge(login(destination))
    t.equal((await failure(otp.startChallenge(login(destination)))).retryAfter, 1, 'the short window first')
    await harness.elapse(1100)
    await otp.startChallenge(login(destination))
    const daily = await failure(otp.startChallenge(login(destination)))
    t.equal(daily.code, 'rate_limited')
    t.match(daily.detail, /today/)
    t.ok(daily.retryAfter! > 86_000 && daily.retryAfter! <= 86_400, `until the first send leaves the day (${daily.retryAfter} s)`)
    t.equal(daily.limit, 4, 'RateLimit-Limit names the daily quota')
  })

  t.test('plus-aliases of one mailbox share cooldown, quotas and throttling', async (t) => {
    const otp = engine({ quota: 2, throttleAfterFailures: 0, throttleMaxSeconds: 1 })
    const mailbox = email('alias')
    const [local, domain] = mailbox.split('@')
    const alias = (tag: string) => `${local}+${tag}@${domain}`
    const first = await otp.startChallenge(login(alias('a')))
    t.equal((await failure(otp.startChallenge(login(alias('b'))))).code, 'cooldown', 'one cooldown for every alias')
    await otp.startChallenge(login(mailbox, { purpose: 'verify_contact' }))
    t.match((await failure(otp.startChallenge(login(alias('c'), { purpose: 'other' })))).detail, /codes/, 'one quota')
    await failure(otp.verifyChallenge({ challengeId: first.challengeId, code: otherCode(first.code), purpose: 'login' }))
    const contact = await failure(otp.verifyChallenge({ challengeId: first.challengeId, code: first.code, purpose: 'login' }))
    t.equal(contact.code, 'rate_limited', 'one throttle')
    t.equal(first.destination, alias('a'), 'the code still goes to the address asked for')
  })

  t.test('pepper rotation: a code issued under the previous pepper still verifies', async (t) => {
    const before = engine()
    const rotated = engine({}, { pepper: NEXT_PEPPER, previousPepper: PEPPER })
    const forgetful = engine({}, { pepper: NEXT_PEPPER })
    const old = await before.startChallenge(login(email('rotation')))
    const wrong = await failure(forgetful.verifyChallenge({ challengeId: old.challengeId, code: old.code, purpose: 'login' }))
    t.equal(wrong.code, 'invalid_code', 'without the previous pepper the old hash does not match')
    t.same(await verified(rotated.verifyChallenge({ challengeId: old.challengeId, code: old.code, purpose: 'login' })), detailsOf(old))
    const fresh = await rotated.startChallenge(login(email('rotation-new')))
    t.same(await verified(rotated.verifyChallenge({ challengeId: fresh.challengeId, code: fresh.code, purpose: 'login' })), detailsOf(fresh), 'new codes use the new pepper')
  })

  t.test('deliveryOf: send the pending code of a real challenge until a resend replaces it or it is used; rehearse a decoy\'s', async (t) => {
    const otp = engine({ cooldownSeconds: 0 })
    const issued = await otp.startChallenge(login(email('peek')))
    const expiresAt = issued.expiresAt.getTime()
    t.equal(await otp.deliveryOf(issued.challengeId, expiresAt), 'send', 'the code just issued')
    t.equal(await otp.deliveryOf(issued.challengeId, expiresAt - 1), 'drop', 'another issue of it')
    await harness.elapse(5)
    const resent = await otp.resendChallenge(issued.challengeId)
    t.not(resent.expiresAt.getTime(), expiresAt, 'a resend renews the expiry')
    t.equal(await otp.deliveryOf(issued.challengeId, expiresAt), 'drop', 'the replaced code')
    t.equal(await otp.deliveryOf(issued.challengeId, resent.expiresAt.getTime()), 'send', 'the new one')
    await otp.verifyChallenge({ challengeId: issued.challengeId, code: resent.code, purpose: 'login' })
    t.equal(await otp.deliveryOf(issued.challengeId, resent.expiresAt.getTime()), 'drop', 'a used code')
    const decoy = await otp.startChallenge(login(email('peek-decoy'), { deliverable: false }))
    t.equal(await otp.deliveryOf(decoy.challengeId, decoy.expiresAt.getTime()), 'rehearse', 'a decoy is rehearsed, never sent')
    t.equal(await otp.deliveryOf(decoy.challengeId, decoy.expiresAt.getTime() - 1), 'drop', 'a replaced decoy is dropped')
    t.equal(await otp.deliveryOf('nope', expiresAt), 'drop', 'a malformed id')
  })

  t.test('withdraw removes the challenge and refunds its cooldown and quota slot', async (t) => {
    const otp = engine({ quota: 1 })
    const destination = email('withdraw')
    const failed = await otp.startChallenge(login(destination))
    await otp.withdrawChallenge(failed.challengeId)
    t.equal((await failure(otp.verifyChallenge({ challengeId: failed.challengeId, code: failed.code, purpose: 'login' }))).code, 'challenge_expired')
    const retried = await otp.startChallenge(login(destination))
    t.match(retried, issuedFor(destination), 'no cooldown, and the quota slot was given back')
    t.not(retried.challengeId, failed.challengeId, 'a new challenge')
    t.equal((await failure(otp.startChallenge(login(destination)))).code, 'cooldown', 'the delivered one is charged')
    t.equal((await failure(otp.startChallenge(login(destination, { purpose: 'verify_contact' })))).code, 'rate_limited', 'and takes the quota')
    await otp.withdrawChallenge(failed.challengeId)
    t.equal((await failure(otp.startChallenge(login(destination)))).code, 'cooldown', 'withdrawing twice refunds nothing more')
  })

  t.test('resend keeps the id, replaces the code and resets attempts, under the same limits', async (t) => {
    const otp = engine({ cooldownSeconds: 1, maxAttempts: 3 })
    const destination = email('resend')
    const issued = await otp.startChallenge(login(destination, { userId: 'user-2' }))
    const early = await failure(otp.resendChallenge(issued.challengeId))
    t.same([early.code, early.retryAfter], ['cooldown', 1])
    await failure(otp.verifyChallenge({ challengeId: issued.challengeId, code: otherCode(issued.code), purpose: 'login' }))
    await harness.elapse(1100)
    const resent = await otp.resendChallenge(issued.challengeId)
    t.equal(resent.challengeId, issued.challengeId)
    t.same([resent.userId, resent.destination, resent.purpose, resent.isTestIdentifier], ['user-2', destination, 'login', false])
    t.ok(resent.expiresAt > issued.expiresAt, 'TTL renewed')
    if (resent.code !== issued.code) {
      const old = await failure(otp.verifyChallenge({ challengeId: issued.challengeId, code: issued.code, purpose: 'login' }))
      t.same([old.code, old.extensions], ['invalid_code', { remainingAttempts: 2 }], 'old code refused, attempts reset')
    }
    t.same(await verified(otp.verifyChallenge({ challengeId: resent.challengeId, code: resent.code, purpose: 'login' })), detailsOf(issued), 'the challenge as started')
    t.equal((await failure(otp.resendChallenge(issued.challengeId))).code, 'challenge_expired', 'used challenges cannot be resent')

    const quota = engine({ cooldownSeconds: 0, quota: 2 })
    const limited = await quota.startChallenge(login(email('resend-quota')))
    await quota.resendChallenge(limited.challengeId)
    t.equal((await failure(quota.resendChallenge(limited.challengeId))).code, 'rate_limited', 'resends take quota')
  })

  t.test('resend does not end the run of failures', async (t) => {
    const otp = engine({ cooldownSeconds: 0, throttleAfterFailures: 1 })
    const issued = await otp.startChallenge(login(email('resend-throttle')))
    await failure(otp.verifyChallenge({ challengeId: issued.challengeId, code: otherCode(issued.code), purpose: 'login' }))
    const resent = await otp.resendChallenge(issued.challengeId)
    await failure(otp.verifyChallenge({ challengeId: resent.challengeId, code: otherCode(resent.code), purpose: 'login' }))
    t.equal((await failure(otp.verifyChallenge({ challengeId: resent.challengeId, code: resent.code, purpose: 'login' }))).code, 'rate_limited')
  })

  t.test('test identifiers get their fixed code on the real path', async (t) => {
    const testCodeFor = parseTestIdentifiers(['*@loadtest.example=000000', '+1555*=123456'], 6)
    const otp = engine({ cooldownSeconds: 0 }, { testCodeFor })
    const loadtester = `user-${randomBytes(3).toString('hex')}@loadtest.example`
    destinations.push(loadtester)
    const issued = await otp.startChallenge(login(loadtester))
    t.same([issued.code, issued.isTestIdentifier], ['000000', true])
    const wrong = await failure(otp.verifyChallenge({ challengeId: issued.challengeId, code: '000001', purpose: 'login' }))
    t.same(wrong.extensions, { remainingAttempts: 4 }, 'attempts still count')
    const resent = await otp.resendChallenge(issued.challengeId)
    t.same([resent.code, resent.isTestIdentifier], ['000000', true], 'a resend keeps the fixed code')
    t.same(await verified(otp.verifyChallenge({ challengeId: issued.challengeId, code: '000000', purpose: 'login' })), detailsOf(issued))

    const reviewer = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`
    destinations.push(reviewer)
    const sms = await otp.startChallenge({ purpose: 'login', channel: 'sms', destination: reviewer })
    t.equal(sms.code, '123456')
    t.same(await verified(otp.verifyChallenge({ challengeId: sms.challengeId, code: '123456', purpose: 'login' })), detailsOf(sms))
    t.equal((await engine().startChallenge(login(email('not-a-tester')))).isTestIdentifier, false)
  })

  t.test('skipQuotaForTestIdentifiers lifts cooldown and quotas, not the throttling', async (t) => {
    const testCodeFor = parseTestIdentifiers(['*@loadtest.example=000000'], 6)
    const loadtester = `skip-${randomBytes(3).toString('hex')}@loadtest.example`
    destinations.push(loadtester)
    const charged = engine({}, { testCodeFor })
    await charged.startChallenge(login(loadtester, { purpose: 'charged' }))
    t.equal((await failure(charged.startChallenge(login(loadtester, { purpose: 'charged' })))).code, 'cooldown', 'limits apply without the option')

    const free = engine({ throttleAfterFailures: 2, dailyQuota: 5 }, { testCodeFor, skipQuotaForTestIdentifiers: true })
    let last
    for (let i = 0; i < 7; i++) last = await free.startChallenge(login(loadtester))
    t.equal(last!.resendAfter.getTime(), last!.expiresAt.getTime() - 300_000, 'no cooldown announced')
    t.match(await free.resendChallenge(last!.challengeId), { ...issuedFor(loadtester), challengeId: last!.challengeId, code: '000000' }, 'resend is free too')
    for (let i = 0; i < 3; i++) await failure(free.verifyChallenge({ challengeId: last!.challengeId, code: '111111', purpose: 'login' }))
    const waiting = await failure(free.verifyChallenge({ challengeId: last!.challengeId, code: '000000', purpose: 'login' }))
    t.same([waiting.code, waiting.retryAfter], ['rate_limited', 1], 'throttling still applies')
  })

  t.test('reinstate puts a verified challenge back: its code verifies once more, its attempts still counted', async (t) => {
    const otp = engine()
    const destination = email('reinstate')
    const { challengeId, code } = await otp.startChallenge(login(destination))
    await failure(otp.verifyChallenge({ challengeId, code: otherCode(code), purpose: 'login' }))
    const verified = await otp.verifyChallenge({ challengeId, code, purpose: 'login' })
    t.equal((await failure(otp.verifyChallenge({ challengeId, code, purpose: 'login' }))).code, 'challenge_expired', 'used')
    await otp.startChallenge(login(destination, { purpose: 'verify_contact' }))
    t.equal(await verified.reinstate(), true, 'a challenge of another purpose is no obstacle')
    t.equal(await verified.reinstate(), false, 'one use')
    const wrong = await failure(otp.verifyChallenge({ challengeId, code: otherCode(code), purpose: 'login' }))
    t.same([wrong.code, wrong.extensions], ['invalid_code', { remainingAttempts: 3 }], 'the attempt used before it is still counted')
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => otp.verifyChallenge({ challengeId, code, purpose: 'login' })))
    const fulfilled = results.flatMap((result) => result.status === 'fulfilled' ? [result.value] : [])
    t.equal(fulfilled.length, 1, 'the same code verifies exactly once more')
    t.same({ ...fulfilled[0], reinstate: null }, { ...verified, reinstate: null }, 'with the same details')
  })

  t.test('a verified snapshot keeps any text: reinstated after a code and after a link, with the same details', async (t) => {
    const otp = engine({ cooldownSeconds: 0, quota: 20, throttleAfterFailures: 10, suspendAfterFailures: 1 })
    // non-ASCII, a quote, a backslash and a slash: what the store's encoding of a snapshot must carry through
    const destination = `otp-snapshot-${randomBytes(3).toString('hex')}@bücher.example`
    destinations.push(destination)
    const extra = { userId: 'u"1\\/ü', locale: 'zh-Hant-TW' }
    const byCode = await otp.startChallenge(login(destination, extra))
    const code = await otp.verifyChallenge({ challengeId: byCode.challengeId, code: byCode.code, purpose: 'login' })
    t.match(code, { destination, userId: extra.userId, locale: extra.locale })
    t.equal(await code.reinstate(), true)
    t.same(await verified(otp.verifyChallenge({ challengeId: byCode.challengeId, code: byCode.code, purpose: 'login' })), await verified(Promise.resolve(code)), 'a code: the same details again')

    const wrong = await otp.startChallenge(login(destination, extra))
    await failure(otp.verifyChallenge({ challengeId: wrong.challengeId, code: otherCode(wrong.code), purpose: 'login' }))
    const byLink = await otp.startChallenge(login(destination, extra))
    t.ok(byLink.linkToken, 'suspended: a link')
    const link = await otp.verifyLink({ token: byLink.linkToken!, purpose: 'login' })
    t.equal(await link.reinstate(), true)
    t.same(await verified(otp.verifyLink({ token: byLink.linkToken!, purpose: 'login' })), await verified(Promise.resolve(link)), 'a link: the same details again')
  })

  t.test('reinstate does nothing once a newer challenge replaced it', async (t) => {
    const otp = engine({ cooldownSeconds: 0 })
    const destination = email('reinstate-newer')
    const first = await otp.startChallenge(login(destination))
    const verifiedFirst = await otp.verifyChallenge({ challengeId: first.challengeId, code: first.code, purpose: 'login' })
    const second = await otp.startChallenge(login(destination))
    t.equal(await verifiedFirst.reinstate(), false)
    t.equal((await failure(otp.verifyChallenge({ challengeId: first.challengeId, code: first.code, purpose: 'login' }))).code, 'challenge_expired')
    const wrong = await failure(otp.verifyChallenge({ challengeId: second.challengeId, code: otherCode(second.code), purpose: 'login' }))
    t.same(wrong.extensions, { remainingAttempts: 4 }, 'the newer challenge is untouched')

    const third = await otp.startChallenge(login(destination))
    const verifiedThird = await otp.verifyChallenge({ challengeId: third.challengeId, code: third.code, purpose: 'login' })
    const fourth = await otp.startChallenge(login(destination))
    const verifiedFourth = await otp.verifyChallenge({ challengeId: fourth.challengeId, code: fourth.code, purpose: 'login' })
    t.equal(await verifiedThird.reinstate(), false, 'even when the newer one was used in turn')
    t.equal(await verifiedFourth.reinstate(), true)
    const left = await failure(otp.verifyChallenge({ challengeId: fourth.challengeId, code: otherCode(fourth.code), purpose: 'login' }))
    t.same(left.extensions, { remainingAttempts: 4 }, 'the newest is back (and left for the TTL check)')
  })

  t.test('reinstate keeps the expiry the challenge had, and does nothing once it passed', async (t) => {
    // a TTL of seconds that the harness's clock spends: Redis counts it down in real time as well
    const otp = engine({ ttlSeconds: 20 })
    const destination = email('reinstate-ttl')
    const kept = await otp.startChallenge(login(destination))
    const late = await otp.startChallenge(login(destination, { purpose: 'verify_contact' }))
    await harness.elapse(10_000)
    const verifiedKept = await otp.verifyChallenge({ challengeId: kept.challengeId, code: kept.code, purpose: 'login' })
    const verifiedLate = await otp.verifyChallenge({ challengeId: late.challengeId, code: late.code, purpose: 'verify_contact' })
    t.equal(await verifiedKept.reinstate(), true)
    if (harness.listKeys !== undefined) {
      const random = kept.challengeId.split('.')[1]!
      const [key] = (await harness.listKeys()).filter(({ key }) => key.includes(random))
      t.ok(key !== undefined && key.pttl > 0 && key.pttl <= 10_000, `the remaining TTL, not a new one (${key?.pttl})`)
    }
    await harness.elapse(10_100)
    t.equal(await verifiedLate.reinstate(), false, 'too late')
    const lapsed = await failure(otp.verifyChallenge({ challengeId: kept.challengeId, code: kept.code, purpose: 'login' }))
    t.equal(lapsed.code, 'challenge_expired', 'the reinstated one lapsed when it would have')
  })

  t.test('every key has a TTL and no key name holds a destination', async (t) => {
    // a harness of its own: the keys looked at are the ones this test makes, of every kind the store writes
    const own = await createHarness()
    t.teardown(() => own.close())
    // known only once the harness exists: a plan of none is tap's skip, with the reason
    if (own.listKeys === undefined) return t.plan(0, 'this adapter has no key names')
    const otp = new OtpEngine({
      store: own.store, pepper: PEPPER, policy: { ...DEFAULT_POLICY, throttleAfterFailures: 1, suspendAfterFailures: 3 }
    })
    const wrong = (issued: IssuedChallenge) =>
      failure(otp.verifyChallenge({
        challengeId: issued.challengeId, code: otherCode(issued.code), purpose: issued.purpose
      }))
    // a suspended destination (each wait let pass)
    const suspended = await otp.startChallenge(login(email('keys-suspended')))
    for (let i = 0; i < 3; i++) {
      await own.elapse(2100)
      await wrong(suspended)
    }
    // a challenge, its destination's pointer, cooldown and quota; then one failure
    const pending = await otp.startChallenge(login(email('keys-pending')))
    await wrong(pending)
    // a throttled destination: its run of failures, its wait and its notice
    const throttled = await otp.startChallenge({ purpose: 'login', channel: 'sms', destination: phone() })
    await wrong(throttled)
    await wrong(throttled)
    // a verified challenge put back
    const reinstated = await otp.startChallenge(login(email('keys-reinstated'), { purpose: 'verify_contact' }))
    const verifiedOnce = await otp.verifyChallenge({ challengeId: reinstated.challengeId, code: reinstated.code, purpose: 'verify_contact' })
    t.equal(await verifiedOnce.reinstate(), true)

    const keys = await own.listKeys()
    const kinds = new Set(keys.map(({ key }) => /\}:(c):|:(p|cd):[^:]+$|:(q|f|l|n|x)$/.exec(key)?.slice(1).find(Boolean) ?? key))
    t.same([...kinds].sort(), ['c', 'cd', 'f', 'l', 'n', 'p', 'q', 'x'], 'every kind of key: challenge, pointer, cooldown, quota, run, wait, notice, failure log')
    t.same(keys.filter(({ pttl }) => pttl < 0).map(({ key }) => key), [], 'no key without a TTL, a suspension\'s neither')
    const revealing = keys.filter(({ key }) => destinations.some((destination) => {
      const lower = key.toLowerCase()
      return lower.includes(destination.toLowerCase()) || lower.includes(destination.split('@')[0]!.toLowerCase()) || lower.includes(destination.replace(/^\+/, ''))
    }))
    t.same(revealing.map(({ key }) => key), [], 'no key name holds an email address or phone number')
  })
}
