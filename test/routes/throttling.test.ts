import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { codeFromOutbox, login, newEmail, outboxOf, startLogin } from '../helpers/login.ts'
import { elapseKeys, uniqueKeyPrefix } from '../helpers/redis.ts'
import { enrolledUser, manualClock, REPEAT_LOGIN_ENV, totpCode } from '../helpers/totp.ts'
import { eventually } from '../helpers/eventually.ts'

// Security round 2, point 4: growing throttling instead of a lockout anyone could set off, and a ceiling.
const verify = (app: FastifyInstance, challengeId: string, code: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId, code } })
const mfaVerify = (app: FastifyInstance, mfaToken: string, code: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/mfa/verify', payload: { mfaToken, code } })
const wrong = (code: string) => code === '000000' ? '111111' : '000000'
const LINK_PAGE = 'https://app.example.com/sign-in'
const linkVerify = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/link/verify', payload: { token } })
const textFor = async (app: FastifyInstance, email: string) =>
  ((await outboxOf(app, email)).json().messages as Array<{ text: string }>)[0]?.text ?? ''
/** The token of the newest sign-in link the dev outbox holds for `email`. */
async function linkTokenFor (app: FastifyInstance, email: string): Promise<string> {
  const match = /#token=([\w.-]+)/.exec(await textFor(app, email))
  if (!match) throw new Error(`no sign-in link in the newest message to ${email}`)
  return match[1]!
}

async function started (app: FastifyInstance, email: string): Promise<{ challengeId: string, code: string }> {
  const start = await startLogin(app, { email })
  if (start.statusCode !== 202) throw new Error(`start answered ${start.statusCode}: ${start.body}`)
  return { challengeId: start.json().challengeId, code: await codeFromOutbox(app, email) }
}

/**
 * The app on a clock of the test's, and `elapse`, time passing without a wait: the clock moves, and every Redis
 * key of the app's loses as much of its TTL (the throttles' waits are TTLs, in Redis's own time).
 */
async function throttledApp (t: Test, env: Record<string, string>) {
  const clock = manualClock()
  const redisKeyPrefix = uniqueKeyPrefix('throttling')
  const app = await buildTestApp(t, {
    loadShedding: false, outbox: true, now: clock.now, redisKeyPrefix, env: { ...REPEAT_LOGIN_ENV, ...env }
  })
  const elapse = async (ms: number) => {
    clock.advance(ms)
    await elapseKeys(app.redis!, redisKeyPrefix, ms)
  }
  return { app, clock, elapse }
}

/** `failures` wrong codes for one address, over as many challenges as it takes. */
async function guess (app: FastifyInstance, email: string, failures: number): Promise<void> {
  for (let done = 0; done < failures;) {
    const { challengeId, code } = await started(app, email)
    for (let attempt = 0; attempt < 5 && done < failures; attempt++, done++) {
      const answer = await verify(app, challengeId, wrong(code))
      if (answer.statusCode !== 400 && answer.statusCode !== 429) throw new Error(`a wrong code answered ${answer.statusCode}`)
    }
  }
}

t.test('wrong codes throttle the address, never lock it: a fresh code still arrives and works after the wait', async (t) => {
  const { app, elapse } = await throttledApp(t, { OTP_THROTTLE_AFTER_FAILURES: '3', OTP_THROTTLE_MAX_SECONDS: '1' })
  const email = newEmail('throttled')
  await login(app, { email })
  const attacked = await started(app, email)
  for (let attempt = 0; attempt < 4; attempt++) {
    t.equal((await verify(app, attacked.challengeId, wrong(attacked.code))).statusCode, 400)
  }
  const restart = await startLogin(app, { email })
  t.equal(restart.statusCode, 202, 'the owner still gets a code: nobody can lock the address out')
  // at once: the wait is a Redis key of 1 s, which real time ends too (the outbox's code comes through the queue).
  // Refused unchecked, so any code will do; the store contract shows the right one refused as well.
  const early = await verify(app, restart.json().challengeId, '000000')
  t.equal(early.statusCode, 429, 'a verification during the wait is refused')
  t.equal(early.headers['retry-after'], '1')
  const fresh = { challengeId: restart.json().challengeId, code: await codeFromOutbox(app, email) }
  await elapse(1000)
  const late = await verify(app, fresh.challengeId, fresh.code)
  t.equal(late.statusCode, 200, 'the fresh code works after the wait')
  const again = await started(app, email)
  for (let attempt = 0; attempt < 3; attempt++) {
    t.equal((await verify(app, again.challengeId, wrong(again.code))).statusCode, 400, 'the success ended the run: free failures again')
  }
})

// Security round 3, point 3: a suspension anyone can set off blocks only the guessable code, for a day at most, and
// the owner still signs in, with a single-use link sent instead of a code
t.test('a suspended address gets a sign-in link instead of a code, which signs in; the suspension ends by itself', async (t) => {
  const clock = manualClock()
  const env = {
    ...REPEAT_LOGIN_ENV, OTP_SEND_QUOTA: '100', OTP_DAILY_QUOTA: '100', OTP_THROTTLE_AFTER_FAILURES: '100', SUSPEND_AFTER_FAILURES: '10', MAGIC_LINK_URL: LINK_PAGE
  }
  // in memory: the whole app on the test's clock, so a day passes without waiting
  const app = await buildTestApp(t, { stores: 'memory', limiter: false, loadShedding: false, outbox: true, now: clock.now, env })
  const plain = newEmail('suspended')
  await login(app, { email: plain })
  const { email: enrolled, otpauthUri } = await enrolledUser(app, clock)
  const unknown = newEmail('suspended-unknown')
  for (const email of [plain, enrolled, unknown]) await guess(app, email, 10)

  for (const email of [plain, enrolled, unknown]) {
    const start = await startLogin(app, { email })
    t.equal(start.statusCode, 202, 'the owner still asks for a code')
    t.equal(start.json().method, 'link', 'and is told a link is on its way')
    const refused = await verify(app, start.json().challengeId, '123456')
    t.equal(refused.statusCode, 403, 'codes are refused unchecked')
    t.match(refused.json(), { code: 'login_suspended' })
    t.ok(Number(refused.headers['retry-after']) <= 86_400, `for at most a day (${refused.headers['retry-after']} s)`)
    const token = await linkTokenFor(app, email)
    t.notMatch(await textFor(app, email), /\b\d{6}\b/, 'no code in the message')
    const followed = await linkVerify(app, token)
    t.equal(followed.statusCode, 200, 'the link signs in')
    if (email === enrolled) {
      t.match(followed.json(), { mfaRequired: true, methods: ['totp', 'recovery'] }, 'then the usual second factor')
      const done = await mfaVerify(app, followed.json().mfaToken, totpCode(otpauthUri, clock.ms()))
      t.equal(done.statusCode, 200)
      clock.steps(1)
    } else {
      t.type(followed.json().accessToken, 'string')
    }
    t.equal((await linkVerify(app, token)).statusCode, 410, 'once')
  }
  t.equal((await startLogin(app, { email: plain })).json().method, 'link', 'a sign-in ends the run, not the day\'s count: still a link')
  clock.advance(86_400_000)
  const { challengeId, code } = await started(app, plain)
  t.equal((await verify(app, challengeId, code)).statusCode, 200, 'a day later codes work again, with nobody\'s help')
})

t.test('the owner is told at the first throttle step, once an hour, with no code in it', async (t) => {
  const { app, elapse } = await throttledApp(t, { OTP_THROTTLE_AFTER_FAILURES: '1', OTP_THROTTLE_MAX_SECONDS: '1' })
  const email = newEmail('noticed')
  const noticesTo = async (address: string) => {
    const { messages } = (await outboxOf(app, address)).json() as { messages: Array<{ text: string }> }
    return messages.filter((message) => /wrong codes/.test(message.text))
  }
  const attacked = await started(app, email)
  t.equal((await verify(app, attacked.challengeId, wrong(attacked.code))).statusCode, 400)
  t.same(await noticesTo(email), [], 'not for a free failure')
  t.equal((await verify(app, attacked.challengeId, wrong(attacked.code))).statusCode, 400)
  const [notice, ...more] = await noticesTo(email)
  t.match(notice, { text: /up to 1 minute/ }, 'at the first throttle step, saying how long waits get')
  t.notMatch(notice?.text, attacked.code, 'with no code in it')
  t.same(more, [])
  await elapse(1000)
  t.equal((await verify(app, attacked.challengeId, wrong(attacked.code))).statusCode, 400)
  t.equal((await noticesTo(email)).length, 1, 'not again within the hour')
})

t.test('wrong authenticator codes tell the account\'s owner too, by email, once', async (t) => {
  const { app, clock, elapse } = await throttledApp(t, { TOTP_THROTTLE_AFTER_FAILURES: '1', TOTP_THROTTLE_MAX_SECONDS: '1' })
  const { email, headers } = await enrolledUser(app, clock)
  const wrongTotp = () => app.inject({ method: 'POST', url: '/v1/me/totp/recovery-codes', headers, payload: { code: '000000' } })
  const notices = async () => {
    const { messages } = (await outboxOf(app, email)).json() as { messages: Array<{ text: string }> }
    return messages.filter((message) => /wrong codes/.test(message.text))
  }
  t.equal((await wrongTotp()).statusCode, 400)
  t.same(await notices(), [], 'not for a free failure')
  t.equal((await wrongTotp()).statusCode, 400)
  // queued after a user lookup, off the request: waited for, not slept on
  t.ok(await eventually(async () => (await notices()).length > 0, 5000), 'at the first throttle step')
  t.equal((await notices()).length, 1)
  await elapse(1000)
  t.equal((await wrongTotp()).statusCode, 400)
  t.equal((await notices()).length, 1, 'not again within the hour')
})
