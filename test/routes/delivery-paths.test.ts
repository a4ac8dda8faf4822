import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { SENDGRID_INVALID_RECIPIENT, startFakeSendGrid } from '../helpers/fake-sendgrid.ts'
import { codeFromOutbox, newEmail, startLogin } from '../helpers/login.ts'

async function sendGridApp (t: Test, env: Record<string, string> = {}) {
  const sendgrid = await startFakeSendGrid()
  t.teardown(() => sendgrid.close())
  const app = await buildTestApp(t, {
    env: {
      SENDGRID_API_KEY: 'SG.test-key',
      SENDGRID_BASE_URL: sendgrid.url,
      EMAIL_FROM: 'codes@otp-gate.example',
      DEV_OUTBOX: 'false',
      DELIVERY_TIMEOUT_MS: '200',
      DELIVERY_RETRIES: '1',
      ...env
    }
  })
  return { app, sendgrid }
}

t.test('the code reaches SendGrid through the real SDK, in the user\'s language', async (t) => {
  const { app, sendgrid } = await sendGridApp(t)
  const email = newEmail()
  const started = await startLogin(app, { email, locale: 'fr-CA' })
  t.equal(started.statusCode, 202)
  const [request] = sendgrid.accepted()
  t.equal(request?.headers.authorization, 'Bearer SG.test-key')
  t.same(request?.body.personalizations[0].to, [{ email }])
  t.match(request?.body.content[0].value, /code/i)
  t.match(JSON.stringify(request?.body), /\b\d{6}\b/, 'the body carries the code')
  t.match(request?.body.subject, /[Cc]ode|votre/i)
})

t.test('a provider timeout: 502 after the retries, the challenge withdrawn so a new start is accepted at once', async (t) => {
  const { app, sendgrid } = await sendGridApp(t)
  sendgrid.answerAlways({ status: 202, delayMs: 1000 })
  const email = newEmail()
  const failed = await startLogin(app, { email })
  t.equal(failed.statusCode, 502)
  t.equal(failed.json().code, 'delivery_failed')
  t.equal(sendgrid.requests.length, 2, 'one try and one retry')
  t.notMatch(failed.body, /\d{6}/, 'nothing about the failure carries the code')

  sendgrid.answerAlways({ status: 202 })
  const again = await startLogin(app, { email })
  t.equal(again.statusCode, 202, 'no cooldown or quota slot was charged for the failed send')
})

t.test('an invalid recipient is a 422 invalid_destination', async (t) => {
  const { app, sendgrid } = await sendGridApp(t)
  sendgrid.answerAlways(SENDGRID_INVALID_RECIPIENT)
  const response = await startLogin(app, { email: newEmail() })
  t.equal(response.statusCode, 422)
  t.equal(response.json().code, 'invalid_destination')
})

t.test('sign-up closed and the provider failing: known and unknown identifiers get the same answers', async (t) => {
  const { app, sendgrid } = await sendGridApp(t, { SIGNUP: 'closed', DELIVERY_RETRIES: '0', DELIVERY_BREAKER_THRESHOLD: '3' })
  sendgrid.answerAlways({ status: 500, body: { errors: [{ message: 'internal' }] } })
  const statuses: Array<[number, number]> = []
  for (let round = 0; round < 5; round++) {
    const known = newEmail('known')
    await app.users.findOrCreateByIdentifier('email', known)
    const knownAnswer = await startLogin(app, { email: known })
    const unknownAnswer = await startLogin(app, { email: newEmail('unknown') })
    statuses.push([knownAnswer.statusCode, unknownAnswer.statusCode])
    t.equal(knownAnswer.statusCode, unknownAnswer.statusCode, `round ${round}: same status`)
    t.same(Object.keys(knownAnswer.json()).sort(), Object.keys(unknownAnswer.json()).sort(), `round ${round}: same body shape`)
    t.equal(knownAnswer.headers['content-type'], unknownAnswer.headers['content-type'], `round ${round}: same content type`)
  }
  t.same(statuses.map(([known]) => known), [202, 202, 503, 503, 503], 'failures are hidden, then the open circuit answers 503 for everyone')
})

t.test('a test identifier logs in with its fixed code through the real path, and nothing is sent', async (t) => {
  const { app, sendgrid } = await sendGridApp(t, { TEST_IDENTIFIERS: '*@loadtest.example=424242' })
  const email = `reviewer-${Date.now()}@loadtest.example`
  const started = await startLogin(app, { email })
  t.equal(started.statusCode, 202)
  t.equal(sendgrid.requests.length, 0, 'no message to SendGrid')
  const wrong = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code: '000000' } })
  t.equal(wrong.json().code, 'invalid_code', 'attempts are counted as for anyone')
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code: '424242' } })
  t.equal(verified.statusCode, 200)
  t.equal(verified.json().user.email, email)
})

t.test('the dev outbox normalises its query like any identifier', async (t) => {
  const app = await buildTestApp(t)
  const email = newEmail()
  await startLogin(app, { email })
  t.match(await codeFromOutbox(app, `  ${email.toUpperCase()}  `), /^\d{6}$/)
  const bad = await app.inject({ method: 'GET', url: '/v1/dev/outbox', query: { to: 'nope' } })
  t.equal(bad.statusCode, 400)
})
