import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { OtpEngine } from '../../src/otp/otp-engine.ts'
import { throttleLimits } from '../../src/throttle/throttling.ts'
import { RedisOtpStore } from '../../src/otp/redis-otp-store.ts'
import { destinationKey, hashCode } from '../../src/otp/codes.ts'
import type { ChallengeSnapshot } from '../../src/otp/otp-store.ts'
import { createTestRedis, deleteKeys, listKeys, uniqueKeyPrefix } from '../helpers/redis.ts'
import { DEFAULT_POLICY } from '../contract/otp-store.ts'
import { parseTestIdentifiers } from '../../src/otp/test-identifiers.ts'

const PEPPER = 'redis-store-test-pepper-0123456789abcdef'
const client = createTestRedis()
const keyPrefix = uniqueKeyPrefix('test-otp-redis')
const store = new RedisOtpStore(client, { keyPrefix })
const otp = new OtpEngine({ store, pepper: PEPPER, policy: { ...DEFAULT_POLICY, cooldownSeconds: 0 } })
t.teardown(async () => {
  await deleteKeys(client, keyPrefix)
  await client.quit()
})

/** The names of the commands the client sends from now on, until `t` ends. */
function recordCommands (t: Test): string[] {
  const sent: string[] = []
  const sendCommand = client.sendCommand.bind(client)
  client.sendCommand = (command, ...rest) => {
    sent.push(command.name)
    return sendCommand(command, ...rest)
  }
  t.teardown(() => { client.sendCommand = sendCommand })
  return sent
}

t.test('key names: prefix, {bucket} hash tag first, no destination', async (t) => {
  const destination = 'key-names@example.org'
  const { challengeId, code } = await otp.startChallenge({ purpose: 'login', channel: 'email', destination })
  await otp.verifyChallenge({ challengeId, code: 'wrong', purpose: 'login' }).catch(() => {})
  const [bucket, random] = challengeId.split('.')
  const keys = (await listKeys(client, keyPrefix)).map(({ key }) => key).sort()
  t.equal(keys.length, 5, 'challenge, pointer, quota, the run of failures and their log (no cooldown in this policy)')
  t.ok(keys.every((key) => key.startsWith(`${keyPrefix}{${bucket}}:`)), 'every key shares the bucket hash tag')
  t.ok(keys.includes(`${keyPrefix}{${bucket}}:c:${random}`))
  t.notOk(keys.some((key) => key.includes('key-names')))

  const stored = await client.hgetall(`${keyPrefix}{${bucket}}:c:${random}`)
  t.equal(stored.hash, hashCode(PEPPER, challengeId, code), 'the HMAC, not the code')
  t.notOk(Object.values(stored).includes(code))
  t.equal(stored.attempts, '1')
  const [seconds] = await client.time()
  t.ok(Math.abs(Number(stored.createdAt) - Number(seconds) * 1000) < 5000, 'createdAt is Redis time')
})

t.test('reinstate writes the challenge hash back as it was, and its pointer, with the remaining TTL', async (t) => {
  const destination = 'reinstate-keys@example.org'
  const { challengeId, code } = await otp.startChallenge({ purpose: 'login', channel: 'email', destination })
  await otp.verifyChallenge({ challengeId, code: 'wrong', purpose: 'login' }).catch(() => {})
  const [bucket, random] = challengeId.split('.')
  const challengeKey = `${keyPrefix}{${bucket}}:c:${random}`
  const pointerKey = `${keyPrefix}{${bucket}}:d:${destinationKey(PEPPER, destination)}:p:login`
  const before = await client.hgetall(challengeKey)
  const verified = await otp.verifyChallenge({ challengeId, code, purpose: 'login' })
  const remaining = await client.pttl(pointerKey)
  t.equal(await client.exists(challengeKey), 0, 'verify deleted the challenge')
  t.equal(await client.get(pointerKey), challengeKey, 'and left the pointer to lapse')
  t.equal(await verified.reinstate(), true)
  t.same(await client.hgetall(challengeKey), before, 'every field, attempts included')
  t.equal(await client.get(pointerKey), challengeKey)
  for (const key of [challengeKey, pointerKey]) {
    const pttl = await client.pttl(key)
    t.ok(pttl > 0 && pttl <= remaining, `${key}: ${pttl} <= ${remaining}`)
  }
  await t.rejects(store.reinstateChallenge('0000.AAAAAAAAAAAAAAAAAAAAAA', { fields: ['attempts', '0'], expiresAt: Number.MAX_SAFE_INTEGER } as unknown as ChallengeSnapshot), /not a challenge snapshot/)
  t.equal(await store.reinstateChallenge('nope', {} as unknown as ChallengeSnapshot), false, 'a malformed id')
})

t.test('each operation is one round trip', async (t) => {
  const run = async () => {
    const issued = await otp.startChallenge({ purpose: 'login', channel: 'email', destination: 'trips@example.org' })
    const resent = await otp.resendChallenge(issued.challengeId)
    await otp.verifyChallenge({ challengeId: issued.challengeId, code: 'wrong', purpose: 'login' }).catch(() => {})
    const verified = await otp.verifyChallenge({ challengeId: issued.challengeId, code: resent.code, purpose: 'login' })
    await verified.reinstate()
    await otp.withdrawChallenge(issued.challengeId)
  }
  await run() // loads the scripts (EVALSHA answered NOSCRIPT, then EVAL) on a fresh server
  const sent = recordCommands(t)
  await run()
  t.same(sent, ['evalsha', 'evalsha', 'evalsha', 'evalsha', 'evalsha', 'evalsha'], 'start, resend, two verifies, reinstate, withdraw')
})

t.test('with test identifiers configured a resend reads the destination first: one round trip more', async (t) => {
  const testers = new OtpEngine({
    store, pepper: PEPPER, policy: { ...DEFAULT_POLICY, cooldownSeconds: 0 }, testCodeFor: parseTestIdentifiers(['*@loadtest.example=000000'], 6)
  })
  const issued = await testers.startChallenge({ purpose: 'login', channel: 'email', destination: 'trips@example.org' })
  await testers.resendChallenge(issued.challengeId)
  const sent = recordCommands(t)
  await testers.resendChallenge(issued.challengeId)
  t.same(sent, ['hmget', 'evalsha'])
})

t.test('the key prefix may not hide the hash tag', async (t) => {
  t.throws(() => new RedisOtpStore(client, { keyPrefix: 'app:{x}:' }), /braces/)
  const prefixed = new Redis({ keyPrefix: 'app:', lazyConnect: true })
  t.throws(() => new RedisOtpStore(prefixed), /without an ioredis keyPrefix/)
  await t.rejects(store.startChallenge({
    challengeId: 'ffff.AAAAAAAAAAAAAAAAAAAAAA',
    destinationKey: '0000aaaa',
    payload: { purpose: 'login', channel: 'email', destination: 'x@example.org', userId: null, locale: null, deliverable: true },
    codeHash: 'h',
    linkHash: 'l',
    maxAttempts: 5
  }, { ttlMs: 1000, cooldownMs: 0, quota: 1, quotaWindowMs: 1000, dailyQuota: 1, dailyWindowMs: 86_400_000 }, throttleLimits({ freeFailures: 5, maxDelayMs: 900_000, suspendAfter: 100 })), /bucket/)
})
