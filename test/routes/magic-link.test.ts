import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { sendGridEnv, startFakeSendGrid } from '../helpers/fake-sendgrid.ts'
import { deliveriesSettled, newEmail, startLogin } from '../helpers/login.ts'

const sendGrid = await startFakeSendGrid()
t.teardown(() => sendGrid.close())

t.test('the magic link of a queued code signs in once, with the values of its fragment', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, env: { ...sendGridEnv(sendGrid), MAGIC_LINK_URL: 'https://app.example.com/auth/callback' } })
  const email = newEmail('magic')
  const started = await startLogin(app, { email, locale: 'fr' })
  t.equal(started.statusCode, 202)
  await deliveriesSettled(app)
  const message = sendGrid.accepted().find((request) => request.body.personalizations[0].to[0].email === email)
  const text: string = message?.body.content[0].value ?? ''
  const link = /https:\/\/app\.example\.com\/auth\/callback#\S+/.exec(text)?.[0]
  t.ok(link, `the email carries the link (${text})`)
  const fragment = Object.fromEntries(new URLSearchParams(new URL(link ?? 'x:').hash.slice(1)))
  t.equal(fragment.challengeId, started.json().challengeId, 'the challenge the start answered')
  t.match(fragment.code, /^\d{6}$/)

  const verify = () => app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: fragment })
  const first = await verify()
  t.equal(first.statusCode, 200, 'the page calls verify with those two values')
  t.ok(first.json().accessToken)
  const again = await verify()
  t.equal(again.statusCode, 410, 'once, like the code')
  t.equal(again.json().code, 'challenge_expired')
})
