import t from 'tap'
import { randomBytes } from 'node:crypto'
import { loadConfig } from '../src/config.ts'
import { generateSigningKey } from '../src/sessions/tokens.ts'
import { buildTestApp, requireEnv } from './helpers/build-app.ts'
import { startFakeSendGrid } from './helpers/fake-sendgrid.ts'
import { startFakeVonage } from './helpers/fake-vonage.ts'
import { testMongoUrl } from './helpers/mongo.ts'
import { bearer, deliveriesSettled, newEmail, newPhone } from './helpers/login.ts'

const codeIn = (body: unknown) => /\b(\d{6})\b/.exec(JSON.stringify(body))?.[1]

t.test('NODE_ENV=production on real Redis and MongoDB, through the providers: a login by email and one by SMS', async (t) => {
  const [sendgrid, vonage] = await Promise.all([startFakeSendGrid(), startFakeVonage()])
  t.teardown(() => Promise.all([sendgrid.close(), vonage.close()]))
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_ALLOWLIST: '127.0.0.1',
    REDIS_URL: requireEnv('REDIS_URL'),
    MONGODB_URL: testMongoUrl(t),
    JWT_KEYS: JSON.stringify([generateSigningKey()]),
    OTP_PEPPER: randomBytes(32).toString('base64'),
    TOTP_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    SENDGRID_API_KEY: 'SG.production-smoke',
    SENDGRID_BASE_URL: sendgrid.url,
    EMAIL_FROM: 'codes@otp-gate.example',
    VONAGE_API_KEY: 'key',
    VONAGE_API_SECRET: 'secret',
    VONAGE_BASE_URL: vonage.url,
    SMS_FROM: 'otpgate',
    SMS_ALLOWED_COUNTRIES: 'US',
    // in production the API only queues unless asked; this one process sends too, so the test needs no worker
    DELIVERY_WORKER: 'true'
  })
  const app = await buildTestApp(t, {}, config)
  t.equal(app.outboxEnabled, false, 'no dev outbox')
  t.equal((await app.inject({ method: 'GET', url: '/v1/dev/outbox', query: { to: 'x@example.org' } })).statusCode, 404)
  t.same((await app.inject({ method: 'GET', url: '/health/ready' })).json(), { status: 'ok', checks: { redis: 'ok', mongodb: 'ok' } })

  const logins = [
    { identifier: { email: newEmail('prod') }, sent: () => sendgrid.accepted() },
    { identifier: { phone: newPhone() }, sent: () => vonage.accepted() }
  ]
  for (const { identifier, sent } of logins) {
    const started = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: identifier })
    t.equal(started.statusCode, 202, `start ${Object.keys(identifier)[0]}`)
    await deliveriesSettled(app)
    const code = codeIn(sent().at(-1)?.body)
    t.match(code, /^\d{6}$/, 'the provider got the code')
    const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })
    t.equal(verified.statusCode, 200, 'verified')
    const me = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(verified.json().accessToken) })
    t.match(me.json(), identifier, 'signed in as that user')
  }
  t.equal(sendgrid.accepted().length, 1)
  t.equal(vonage.accepted().length, 1)
})
