import t from 'tap'
import { inspect } from 'node:util'
import { loadConfig, type Config } from '../../src/config.ts'
import { AppError } from '../../src/errors.ts'
import { hashCode } from '../../src/otp/codes.ts'
import { MemoryOtpStore } from '../../src/otp/memory-otp-store.ts'
import { createOtpEngine, OtpEngine } from '../../src/otp/otp-engine.ts'
import { policyFromConfig } from '../../src/otp/otp-policy.ts'
import { parseTestIdentifiers } from '../../src/otp/test-identifiers.ts'
import { DEFAULT_POLICY } from '../contract/otp-store.ts'

const PEPPER = 'engine-test-pepper-0123456789abcdefghij'
const OLD_PEPPER = 'engine-test-old-pepper-0123456789abcdef'

function setup (
  t: { teardown (fn: () => unknown): void }, env: Record<string, string> = {}, override: Partial<Config> = {}
) {
  const store = new MemoryOtpStore()
  t.teardown(() => store.close())
  return { store, otp: createOtpEngine({ ...loadConfig({ NODE_ENV: 'test', ...env }), ...override }, store) }
}

async function roundTrip (otp: OtpEngine, destination: string, code?: string) {
  const issued = await otp.startChallenge({ purpose: 'login', channel: 'email', destination })
  return await otp.verifyChallenge({ challengeId: issued.challengeId, code: code ?? issued.code, purpose: 'login' })
}

const codeOf = async (promise: Promise<unknown>) => await promise.then(() => 'ok', (error: AppError) => error.code)

t.test('policyFromConfig maps the OTP settings', async (t) => {
  t.same(policyFromConfig(loadConfig({})), DEFAULT_POLICY, 'the defaults of the issue')
  const custom = policyFromConfig(loadConfig({ OTP_CODE_LENGTH: '8', OTP_TTL_SECONDS: '60', OTP_MAX_ATTEMPTS: '3', OTP_DAILY_QUOTA: '7', OTP_THROTTLE_AFTER_FAILURES: '2', SUSPEND_AFTER_FAILURES: '50' }))
  t.same([
    custom.codeLength, custom.ttlSeconds, custom.maxAttempts, custom.dailyQuota, custom.throttleAfterFailures,
    custom.suspendAfterFailures
  ], [8, 60, 3, 7, 2, 50])
})

t.test('createOtpEngine uses the configured code length and pepper', async (t) => {
  const { otp } = setup(t, { OTP_PEPPER: PEPPER, OTP_CODE_LENGTH: '8' })
  const issued = await otp.startChallenge({ purpose: 'login', channel: 'email', destination: 'eight@example.org' })
  t.match(issued.code, /^\d{8}$/)
  t.ok(await otp.verifyChallenge({ challengeId: issued.challengeId, code: issued.code, purpose: 'login' }))
})

t.test('without OTP_PEPPER each engine makes its own ephemeral pepper', async (t) => {
  const { store, otp } = setup(t)
  t.ok(await roundTrip(otp, 'ephemeral@example.org'))
  const issued = await otp.startChallenge({ purpose: 'login', channel: 'email', destination: 'restart@example.org' })
  const restarted = createOtpEngine(loadConfig({ NODE_ENV: 'test' }), store)
  t.equal(await codeOf(restarted.verifyChallenge({ challengeId: issued.challengeId, code: issued.code, purpose: 'login' })), 'invalid_code', 'codes do not survive a restart')
})

t.test('OTP_PEPPER_PREVIOUS keeps codes issued before the rotation valid', async (t) => {
  const store = new MemoryOtpStore()
  t.teardown(() => store.close())
  const before = createOtpEngine(loadConfig({ OTP_PEPPER: OLD_PEPPER }), store)
  const after = createOtpEngine(loadConfig({ OTP_PEPPER: PEPPER, OTP_PEPPER_PREVIOUS: OLD_PEPPER }), store)
  const issued = await before.startChallenge({ purpose: 'login', channel: 'email', destination: 'rotate@example.org' })
  t.ok(await after.verifyChallenge({ challengeId: issued.challengeId, code: issued.code, purpose: 'login' }))
})

t.test('TEST_IDENTIFIERS and TEST_IDENTIFIERS_SKIP_QUOTA', async (t) => {
  const env = { OTP_PEPPER: PEPPER, TEST_IDENTIFIERS: '*@loadtest.example=000000, +1555*=123456' }
  const { otp } = setup(t, { ...env, TEST_IDENTIFIERS_SKIP_QUOTA: 'true' })
  t.ok(await roundTrip(otp, 'a@loadtest.example', '000000'))
  t.ok(await roundTrip(otp, 'a@loadtest.example', '000000'), 'no cooldown with the skip')
  t.ok(await roundTrip(otp, '+15551234567', '123456'))

  const { otp: charged } = setup(t, env)
  t.ok(await roundTrip(charged, 'b@loadtest.example', '000000'))
  t.equal(await codeOf(roundTrip(charged, 'b@loadtest.example', '000000')), 'cooldown', 'limits apply without the skip')

  const { otp: production } = setup(t, env, { NODE_ENV: 'production' })
  t.equal((await production.startChallenge({ purpose: 'login', channel: 'email', destination: 'c@loadtest.example' })).isTestIdentifier, false, 'ignored in production')
  const { otp: allowed } = setup(t, { ...env, ALLOW_TEST_IDENTIFIERS: 'true' }, { NODE_ENV: 'production' })
  t.ok(await roundTrip(allowed, 'd@loadtest.example', '000000'), 'unless ALLOW_TEST_IDENTIFIERS')

  t.throws(() => setup(t, { TEST_IDENTIFIERS: '*@loadtest.example=0000' }), /"\*@loadtest\.example=0000"/)
})

t.test('a test identifier is decided by the engine from the destination, on each start and resend', async (t) => {
  const store = new MemoryOtpStore()
  t.teardown(() => store.close())
  const policy = { ...DEFAULT_POLICY, cooldownSeconds: 0 }
  const testers = new OtpEngine({ store, pepper: PEPPER, policy, testCodeFor: parseTestIdentifiers(['*@loadtest.example=000000'], 6) })
  const plain = new OtpEngine({ store, pepper: PEPPER, policy })
  const started = await plain.startChallenge({ purpose: 'login', channel: 'email', destination: 'later@loadtest.example' })
  t.equal(started.isTestIdentifier, false, 'an engine without test identifiers issues a random code')
  t.same([(await testers.resendChallenge(started.challengeId)).code, (await plain.resendChallenge(started.challengeId)).isTestIdentifier], ['000000', false], 'each resend decides again')
  const fixed = await testers.startChallenge({ purpose: 'login', channel: 'email', destination: 'x@loadtest.example' })
  const resent = await plain.resendChallenge(fixed.challengeId)
  t.equal(resent.isTestIdentifier, false)
  t.equal(await codeOf(plain.verifyChallenge({ challengeId: fixed.challengeId, code: resent.code, purpose: 'login' })), 'ok', 'the code resent replaced the fixed one')
  t.equal(await codeOf(testers.resendChallenge('0000.AAAAAAAAAAAAAAAAAAAAAA')), 'challenge_expired', 'an unknown id, read first, is still expired')
})

t.test('a code of the wrong shape is a wrong attempt', async (t) => {
  const { otp } = setup(t, { OTP_PEPPER: PEPPER })
  const issued = await otp.startChallenge({ purpose: 'login', channel: 'email', destination: 'shape@example.org' })
  for (const code of ['12345', '1234567', `${issued.code} `]) {
    t.equal(await codeOf(otp.verifyChallenge({ challengeId: issued.challengeId, code, purpose: 'login' })), 'invalid_code')
  }
  const error = await otp.verifyChallenge({ challengeId: issued.challengeId, code: '', purpose: 'login' }).catch((error: AppError) => error)
  t.same((error as AppError).extensions, { remainingAttempts: 1 })
})

t.test('the engine refuses a policy it cannot enforce and a start without purpose', async (t) => {
  const store = new MemoryOtpStore()
  t.teardown(() => store.close())
  t.throws(() => new OtpEngine({ store, pepper: PEPPER, policy: { ...DEFAULT_POLICY, ttlSeconds: 0 } }), /ttlSeconds must be positive/)
  t.throws(() => new OtpEngine({ store, pepper: PEPPER, policy: { ...DEFAULT_POLICY, cooldownSeconds: -1 } }), /cooldownSeconds/)
  t.throws(() => new OtpEngine({ store, pepper: PEPPER, policy: { ...DEFAULT_POLICY, codeLength: 4.5 } }), /codeLength/)
  const otp = new OtpEngine({ store, pepper: PEPPER, policy: DEFAULT_POLICY })
  await t.rejects(otp.startChallenge({ purpose: '', channel: 'email', destination: 'x@example.org' }), TypeError)
})

t.test('a verified challenge carries no trace of its code hash, however it is printed', async (t) => {
  const { otp } = setup(t, { OTP_PEPPER: PEPPER })
  const issued = await otp.startChallenge({ purpose: 'login', channel: 'email', destination: 'snapshot@example.org' })
  const verified = await otp.verifyChallenge({ challengeId: issued.challengeId, code: issued.code, purpose: 'login' })
  const hash = hashCode(PEPPER, issued.challengeId, issued.code)
  for (const printed of [
    JSON.stringify(verified), inspect(verified, { depth: 10, showHidden: true }), JSON.stringify({ ...verified })
  ]) {
    t.notOk(printed.includes(hash), printed)
  }
  t.same(Object.keys(verified).sort(), ['challengeId', 'channel', 'deliverable', 'destination', 'locale', 'purpose', 'reinstate', 'userId'])
})
