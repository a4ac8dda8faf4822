import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { SENDGRID_INVALID_RECIPIENT, sendGridEnv, startFakeSendGrid } from '../helpers/fake-sendgrid.ts'
import { codeFromOutbox, deliveriesSettled, newEmail, startLogin } from '../helpers/login.ts'
import { dumpKeys } from '../helpers/redis.ts'

async function sendGridApp (t: Test, env: Record<string, string> = {}) {
  const sendgrid = await startFakeSendGrid()
  t.teardown(() => sendgrid.close())
  const app = await buildTestApp(t, {
    loadShedding: false,
    env: {
      ...sendGridEnv(sendgrid),
      // an answer in time even on a loaded machine; the timeout test sets its own short one
      DELIVERY_TIMEOUT_MS: '2000',
      DELIVERY_RETRY_BASE_MS: '20',
      ...env
    }
  })
  return { app, sendgrid }
}

/** Every key and value the app holds in Redis, as one string: for "nothing in the clear" checks. */
const redisContents = async (app: Awaited<ReturnType<typeof buildTestApp>>) => dumpKeys(app.redis!, '')

t.test('the code reaches SendGrid through the real SDK, in the user\'s language, after the answer', async (t) => {
  const { app, sendgrid } = await sendGridApp(t)
  const email = newEmail()
  const started = await startLogin(app, { email, locale: 'fr-CA' })
  t.equal(started.statusCode, 202)
  await deliveriesSettled(app)
  const [request] = sendgrid.accepted()
  t.equal(request?.headers.authorization, 'Bearer SG.test-key')
  t.same(request?.body.personalizations[0].to, [{ email }])
  t.match(request?.body.content[0].value, /code/i)
  t.match(JSON.stringify(request?.body), /\b\d{6}\b/, 'the body carries the code')
  t.match(request?.body.subject, /[Cc]ode|votre/i)
})

t.test('a provider failing with 500 three times, then accepting: the code arrives, once', async (t) => {
  const { app, sendgrid } = await sendGridApp(t)
  const failure = { status: 500, body: { errors: [{ message: 'internal', field: null }] } }
  sendgrid.queue(failure, failure, failure)
  const email = newEmail()
  const started = await startLogin(app, { email })
  t.equal(started.statusCode, 202, 'the request never waits for the provider')
  await deliveriesSettled(app)
  t.equal(sendgrid.requests.length, 4, 'three failures, then the one accepted')
  t.equal(sendgrid.accepted().length, 1, 'delivered once')
  const codes = new Set(sendgrid.requests.map((request) => JSON.stringify(request.body).match(/\b(\d{6})\b/)?.[1]))
  t.equal(codes.size, 1, 'the same code every time')
  t.same(await app.deliveryQueue.failed(), [])
})

t.test('a provider timeout: the request answers at once, the job is retried, and gives up without a trace of the code', async (t) => {
  const { app, sendgrid } = await sendGridApp(t, { OTP_TTL_SECONDS: '60', DELIVERY_TIMEOUT_MS: '200' })
  sendgrid.answerAlways({ status: 202, delayMs: 1000 })
  const email = newEmail()
  const started = await startLogin(app, { email })
  t.equal(started.statusCode, 202)
  t.notMatch(started.body, /\d{6}/, 'the answer carries no code')
  // the job keeps retrying until the code expires or the attempts run out: the queue holds it meanwhile
  t.ok(await app.deliveryQueue.pending() >= 1, 'queued')
  const code = (await app.inject({ method: 'GET', url: '/health/live' })).statusCode
  t.equal(code, 200, 'the API is not held up')
})

t.test('an invalid recipient: the job goes to the failed set with the reason, and no code is kept', async (t) => {
  const { app, sendgrid } = await sendGridApp(t)
  sendgrid.answerAlways(SENDGRID_INVALID_RECIPIENT)
  const email = newEmail()
  const response = await startLogin(app, { email })
  t.equal(response.statusCode, 202)
  await deliveriesSettled(app)
  t.equal(sendgrid.requests.length, 1, 'a permanent failure is not retried')
  const [failed] = await app.deliveryQueue.failed()
  t.match(failed, { channel: 'email', challengeId: response.json().challengeId, reason: /invalid|400/i })
  const sentCode = JSON.stringify(sendgrid.requests[0]?.body).match(/\b(\d{6})\b/)?.[1] ?? 'none'
  const stored = await redisContents(app)
  t.notOk(stored.includes(sentCode), 'no code in Redis, not even in the failed job')
})

t.test('sign-up closed, known and unknown identifiers: the same answers, and only the known one is sent', async (t) => {
  const { app, sendgrid } = await sendGridApp(t, { SIGNUP: 'closed' })
  const known = newEmail('known')
  await app.users.findOrCreateByIdentifier('email', known)
  const unknown = newEmail('unknown')
  const knownAnswer = await startLogin(app, { email: known })
  const unknownAnswer = await startLogin(app, { email: unknown })
  t.equal(knownAnswer.statusCode, 202)
  t.equal(unknownAnswer.statusCode, 202)
  t.same(Object.keys(knownAnswer.json()).sort(), Object.keys(unknownAnswer.json()).sort(), 'same body shape')
  await deliveriesSettled(app)
  t.same(sendgrid.accepted().map((request) => request.body.personalizations[0].to[0].email), [known], 'the decoy was queued and dropped')
})

t.test('a code replaced by a resend before its job ran is dropped, not sent', async (t) => {
  // the first send fails once, so its job is still waiting for its retry (a second later) when the resend comes
  const { app, sendgrid } = await sendGridApp(t, { OTP_RESEND_COOLDOWN_SECONDS: '0', DELIVERY_RETRY_BASE_MS: '1000' })
  sendgrid.queue({ status: 500, body: { errors: [{ message: 'internal', field: null }] } })
  const email = newEmail()
  const started = await startLogin(app, { email })
  const resent = await app.inject({ method: 'POST', url: '/v1/auth/otp/resend', payload: { challengeId: started.json().challengeId } })
  t.equal(resent.statusCode, 202)
  await deliveriesSettled(app)
  t.equal(sendgrid.accepted().length, 1, 'one message: the resent code')
})

t.test('a test identifier logs in with its fixed code through the real path, and nothing is sent', async (t) => {
  const { app, sendgrid } = await sendGridApp(t, { TEST_IDENTIFIERS: '*@loadtest.example=424242' })
  const email = `reviewer-${Date.now()}@loadtest.example`
  const started = await startLogin(app, { email })
  t.equal(started.statusCode, 202)
  await deliveriesSettled(app)
  t.equal(sendgrid.requests.length, 0, 'no message to SendGrid')
  const wrong = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code: '000000' } })
  t.equal(wrong.json().code, 'invalid_code', 'attempts are counted as for anyone')
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code: '424242' } })
  t.equal(verified.statusCode, 200)
  t.equal(verified.json().user.email, email)
})

t.test('the dev outbox normalises its query like any identifier', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true })
  const email = newEmail()
  await startLogin(app, { email })
  t.match(await codeFromOutbox(app, `  ${email.toUpperCase()}  `), /^\d{6}$/)
  const bad = await app.inject({ method: 'GET', url: '/v1/dev/outbox', query: { to: 'nope' } })
  t.equal(bad.statusCode, 400)
})
