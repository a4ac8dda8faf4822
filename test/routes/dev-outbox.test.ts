import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import { loadConfig } from '../../src/config.ts'
import { buildTestApp, requireEnv } from '../helpers/build-app.ts'
import { testMongoUrl } from '../helpers/mongo.ts'
import { startFakeSendGrid } from '../helpers/fake-sendgrid.ts'
import { bearer, deliveriesSettled, newEmail, newPhone, outboxOf, startLogin } from '../helpers/login.ts'

const sendgrid = await startFakeSendGrid()
t.teardown(() => sendgrid.close())

/** The app on the given environment alone (NODE_ENV unset, as a deployment leaves it), and its log lines. */
async function appWith (t: Test, env: Record<string, string>) {
  const lines: Array<{ level: number, msg: string, channel?: string }> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(...String(chunk).split('\n').filter(Boolean).map((line) => JSON.parse(line))); done() } })
  const config = loadConfig({ RATE_LIMIT_ALLOWLIST: '127.0.0.1,::1', ...env })
  const app = await buildTestApp(t, { logger: { level: 'info', stream } as never }, config)
  await app.ready()
  return { app, warnings: () => lines.filter((line) => line.level === 40).map((line) => line.msg) }
}

const stores = (t: Test) => ({ REDIS_URL: requireEnv('REDIS_URL'), MONGODB_URL: testMongoUrl(t) })
const emailOnly = { SENDGRID_API_KEY: 'SG.test-key', SENDGRID_BASE_URL: sendgrid.url, EMAIL_FROM: 'codes@otp-gate.example' }

t.test('Redis and MongoDB set, SMS without a provider: SMS is off (503 naming it), and no outbox anywhere', async (t) => {
  const { app, warnings } = await appWith(t, { ...stores(t), ...emailOnly })
  const phone = newPhone()
  const sms = await startLogin(app, { phone })
  t.equal(sms.statusCode, 503)
  t.match(sms.json(), { code: 'service_unavailable', detail: /SMS/ })
  t.equal(sms.headers['retry-after'], undefined, 'not a passing outage: no Retry-After')

  const email = newEmail()
  t.equal((await startLogin(app, { email })).statusCode, 202, 'email still goes through its provider')
  await deliveriesSettled(app)
  t.equal(sendgrid.accepted().length, 1)

  const outbox = await outboxOf(app, phone)
  t.equal(outbox.statusCode, 404, 'GET /v1/dev/outbox does not exist')
  t.equal(outbox.json().code, 'not_found')
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  t.notOk(document.paths['/v1/dev/outbox'], 'nor is it documented')

  t.ok(warnings().some((line) => /SMS/.test(line) && /off/.test(line)), `a warning at start names the channel (${warnings().join(' | ')})`)
  t.notOk(warnings().some((line) => /DEV OUTBOX/.test(line)), 'and none announces an outbox')
})

t.test('a contact can not be added on a channel that is off either', async (t) => {
  const { app } = await appWith(t, { ...stores(t), ...emailOnly, OTP_RESEND_COOLDOWN_SECONDS: '0' })
  const email = newEmail()
  const started = await startLogin(app, { email })
  await deliveriesSettled(app)
  const code = /\b(\d{6})\b/.exec(JSON.stringify(sendgrid.accepted().at(-1)?.body))?.[1]
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })
  t.equal(verified.statusCode, 200)
  const added = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers: bearer(verified.json().accessToken), payload: { phone: newPhone() } })
  t.equal(added.statusCode, 503)
  t.match(added.json(), { code: 'service_unavailable', detail: /SMS/ })
})

t.test('DEV_OUTBOX=true: every channel to the outbox, served, and one loud line says so', async (t) => {
  const { app, warnings } = await appWith(t, { ...stores(t), ...emailOnly, DEV_OUTBOX: 'true' })
  const phone = newPhone()
  t.equal((await startLogin(app, { phone })).statusCode, 202)
  const outbox = await outboxOf(app, phone)
  t.equal(outbox.statusCode, 200)
  t.equal(outbox.json().messages.length, 1)
  t.equal(warnings().filter((line) => /DEV OUTBOX/.test(line) && /DEV_OUTBOX=true/.test(line)).length, 1, `one loud line (${warnings().join(' | ')})`)
})

t.test('the embedded mode: a channel without a provider goes to the outbox, and one loud line says so', async (t) => {
  const { app, warnings } = await appWith(t, { ...emailOnly })
  const phone = newPhone()
  t.equal((await startLogin(app, { phone })).statusCode, 202)
  t.equal((await outboxOf(app, phone)).json().messages.length, 1)
  t.equal(warnings().filter((line) => /DEV OUTBOX/.test(line) && /embedded/.test(line)).length, 1, `one loud line (${warnings().join(' | ')})`)
})
