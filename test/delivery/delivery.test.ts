import t from 'tap'
import { loadConfig } from '../../src/config.ts'
import { AppError } from '../../src/errors.ts'
import { createDelivery, type DeliverCodeRequest } from '../../src/delivery/delivery.ts'
import { MemoryOutbox } from '../../src/delivery/memory-outbox.ts'
import { startFakeSendGrid, SENDGRID_INVALID_RECIPIENT, sendGridRateLimited } from '../helpers/fake-sendgrid.ts'
import { startFakeVonage, vonageStatus, VONAGE_NON_WHITELISTED, VONAGE_THROTTLED } from '../helpers/fake-vonage.ts'

const sendGrid = await startFakeSendGrid()
const vonage = await startFakeVonage()
t.teardown(async () => { await Promise.all([sendGrid.close(), vonage.close()]) })
t.beforeEach(() => { sendGrid.reset(); vonage.reset() })

const providers = {
  NODE_ENV: 'test',
  APP_NAME: 'Acme',
  SENDGRID_API_KEY: 'SG.test-key',
  SENDGRID_BASE_URL: sendGrid.url,
  EMAIL_FROM: 'codes@acme.test',
  EMAIL_FROM_NAME: 'Acme Login',
  VONAGE_API_KEY: 'vonage-key',
  VONAGE_API_SECRET: 'vonage-secret',
  VONAGE_BASE_URL: vonage.url,
  SMS_FROM: 'Acme',
  WEBOTP_DOMAIN: 'login.acme.test'
}

interface LogLine { level: 'info' | 'warn', obj: Record<string, unknown>, msg: string }

function setup (env: Record<string, string> = {}) {
  const logs: LogLine[] = []
  const sleeps: number[] = []
  const outbox = new MemoryOutbox()
  const delivery = createDelivery(loadConfig({ ...providers, ...env }), {
    outbox,
    logger: {
      info: (obj, msg) => { logs.push({ level: 'info', obj: obj as Record<string, unknown>, msg }) },
      warn: (obj, msg) => { logs.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }) }
    },
    sleep: async (ms) => { sleeps.push(ms) },
    now: () => new Date('2026-01-01T10:00:00Z')
  })
  return { delivery, outbox, logs, sleeps }
}

const emailRequest: DeliverCodeRequest = { channel: 'email', to: 'jane@example.org', code: '482913', locale: 'en', purpose: 'login', expiresInSeconds: 300 }
const smsRequest: DeliverCodeRequest = { channel: 'sms', to: '+12015550123', code: '482913', locale: 'en', purpose: 'login', expiresInSeconds: 300 }

async function appError (promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(() => { throw new Error('expected a rejection') }, (error: unknown) => error)
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`)
  return error
}

// what must never leak: the code, the full destinations, the credentials
const SECRETS = /482913|jane@example\.org|2015550123|SG\.test-key|vonage-secret/
const leaks = (value: unknown) => JSON.stringify(value, (_key, item) =>
  item instanceof Error ? { ...item, message: item.message, cause: item.cause } : item)

t.test('email goes through SendGrid: key, recipient, sender, the code in the locale\'s template', async (t) => {
  const { delivery } = setup()
  const result = await delivery.deliverCode({ ...emailRequest, locale: 'fr-CA' })
  t.same(result, { provider: 'sendgrid', messageId: 'fake-sg-1' })
  t.equal(sendGrid.requests.length, 1)
  const [request] = sendGrid.requests
  t.equal(request?.headers.authorization, 'Bearer SG.test-key')
  t.same(request?.body.personalizations[0].to, [{ email: 'jane@example.org' }])
  t.same(request?.body.from, { email: 'codes@acme.test', name: 'Acme Login' })
  t.equal(request?.body.subject, 'Votre code de vérification Acme')
  const [text, html] = request?.body.content ?? []
  t.match(text.value, /Votre code de vérification Acme est :\n\n482913\n\nIl expire dans 5 minutes\./)
  t.match(html.value, /<html lang="fr"/)
  t.match(html.value, /482913/)
})

t.test('without EMAIL_FROM_NAME the sender name is the app name', async (t) => {
  const { delivery } = setup({ EMAIL_FROM_NAME: '' })
  await delivery.deliverCode(emailRequest)
  t.same(sendGrid.requests[0]?.body.from, { email: 'codes@acme.test', name: 'Acme' })
})

t.test('SMS goes through Vonage: key and secret, sender id, number, the code and the Web OTP line', async (t) => {
  const { delivery } = setup()
  const result = await delivery.deliverCode({ ...smsRequest, locale: 'de' })
  t.same(result, { provider: 'vonage', messageId: 'fake-vonage-1' })
  const [request] = vonage.requests
  t.equal(request?.headers.authorization, `Basic ${Buffer.from('vonage-key:vonage-secret').toString('base64')}`)
  t.equal(request?.body.from, 'Acme')
  t.equal(request?.body.to, '12015550123')
  t.equal(request?.body.text, 'Ihr Code für Acme lautet 482913. Er ist 5 Minuten gültig. Nicht weitergeben.\n\n@login.acme.test #482913')
})

t.test('an unknown locale gets English', async (t) => {
  const { delivery } = setup()
  await delivery.deliverCode({ ...smsRequest, locale: 'tlh' })
  await delivery.deliverCode({ ...emailRequest, locale: 'xx-YY' })
  t.match(vonage.requests[0]?.body.text, /^Your Acme code is 482913\. It expires in 5 minutes\./)
  t.equal(sendGrid.requests[0]?.body.subject, 'Your Acme verification code')
})

t.test('a 500 is retried: two requests, one message accepted', async (t) => {
  const { delivery, sleeps, logs } = setup()
  sendGrid.queue({ status: 500 })
  const result = await delivery.deliverCode(emailRequest)
  t.equal(sendGrid.requests.length, 2)
  t.equal(sendGrid.accepted().length, 1)
  t.same(result, { provider: 'sendgrid', messageId: 'fake-sg-1' })
  t.same(sleeps, [100], 'one backoff')
  t.match(logs, [
    { level: 'warn', obj: { outcome: 'retrying', attempts: 1, kind: 'transient', providerStatus: '500' } },
    { level: 'info', obj: { outcome: 'delivered', attempts: 2, provider: 'sendgrid', messageId: 'fake-sg-1', recipient: 'j***@example.org' } }
  ])
})

t.test('a provider slower than the timeout: delivery_failed after 1 + retries attempts', async (t) => {
  const { delivery, sleeps } = setup({ DELIVERY_TIMEOUT_MS: '200', DELIVERY_RETRIES: '2' })
  vonage.answerAlways({ delayMs: 1000 })
  const started = performance.now()
  const error = await appError(delivery.deliverCode(smsRequest))
  t.equal(error.code, 'delivery_failed')
  t.equal(error.status, 502)
  t.equal(vonage.requests.length, 3)
  t.same(sleeps, [100, 200], 'exponential backoff between attempts')
  t.ok(performance.now() - started < 1500, 'each attempt gave up at 200 ms')
  t.notMatch(leaks(error), SECRETS)
})

t.test('DELIVERY_RETRIES=0 makes one attempt', async (t) => {
  const { delivery } = setup({ DELIVERY_RETRIES: '0' })
  sendGrid.queue({ status: 503 })
  t.equal((await appError(delivery.deliverCode(emailRequest))).code, 'delivery_failed')
  t.equal(sendGrid.requests.length, 1)
})

t.test('the backoff is capped', async (t) => {
  const { delivery, sleeps } = setup({ DELIVERY_RETRIES: '5' })
  sendGrid.answerAlways({ status: 502 })
  await appError(delivery.deliverCode(emailRequest))
  t.same(sleeps, [100, 200, 400, 800, 1000])
  t.equal(sendGrid.requests.length, 6)
})

t.test('an invalid recipient is invalid_destination at once, without retries', async (t) => {
  const { delivery, logs } = setup()
  sendGrid.queue(SENDGRID_INVALID_RECIPIENT)
  const error = await appError(delivery.deliverCode(emailRequest))
  t.equal(error.code, 'invalid_destination')
  t.equal(error.status, 422)
  t.equal(sendGrid.requests.length, 1)
  t.match(logs, [{ level: 'warn', obj: { outcome: 'failed', kind: 'invalid_recipient', attempts: 1 } }])
  t.notMatch(leaks(error), SECRETS)
})

t.test('Vonage 200 with a non-zero status is a failure', async (t) => {
  const { delivery } = setup()
  vonage.queue(VONAGE_NON_WHITELISTED)
  const invalid = await appError(delivery.deliverCode(smsRequest))
  t.equal(invalid.code, 'invalid_destination')
  t.match(invalid.detail, /phone number/)

  vonage.queue(VONAGE_THROTTLED)
  const result = await delivery.deliverCode(smsRequest)
  t.equal(result.provider, 'vonage', 'throttled (status 1) is retried')
  t.equal(vonage.requests.length, 3)
  t.equal(vonage.accepted().length, 1)
})

t.test('a rejection is delivery_failed without retries', async (t) => {
  const { delivery } = setup()
  sendGrid.queue({ status: 401, body: { errors: [{ message: 'unauthorized', field: null }] } })
  const error = await appError(delivery.deliverCode(emailRequest))
  t.equal(error.code, 'delivery_failed')
  t.match(error.detail, /refused/)
  t.equal(sendGrid.requests.length, 1)
})

t.test('a SendGrid 429 is retried after its Retry-After', async (t) => {
  const { delivery, sleeps } = setup()
  sendGrid.queue(sendGridRateLimited(2))
  const result = await delivery.deliverCode(emailRequest)
  t.equal(result.messageId, 'fake-sg-1')
  t.same(sleeps, [2000], 'waited what SendGrid asked, not the 100 ms backoff')
  t.equal(sendGrid.requests.length, 2)
})

t.test('a Retry-After beyond the timeout budget is not waited for: delivery_failed carries it', async (t) => {
  const { delivery, sleeps } = setup({ DELIVERY_TIMEOUT_MS: '5000' })
  sendGrid.queue(sendGridRateLimited(30))
  const error = await appError(delivery.deliverCode(emailRequest))
  t.equal(error.code, 'delivery_failed')
  t.equal(error.retryAfter, 30)
  t.same(sleeps, [])
  t.equal(sendGrid.requests.length, 1)
})

t.test('logs carry outcome, provider, latency, message id and attempts, never the code or the destination', async (t) => {
  const { delivery, logs } = setup()
  vonage.queue({ status: 500 })
  await delivery.deliverCode(smsRequest)
  sendGrid.queue(SENDGRID_INVALID_RECIPIENT)
  await appError(delivery.deliverCode(emailRequest))
  t.equal(logs.length, 3)
  const delivered = logs.find((line) => line.obj.outcome === 'delivered')
  t.match(delivered?.obj, { channel: 'sms', provider: 'vonage', purpose: 'login', recipient: '+1******0123', attempts: 2, messageId: 'fake-vonage-1', latencyMs: Number })
  for (const line of logs) t.notMatch(JSON.stringify(line), SECRETS, line.msg)
})

t.test('routing: providers configured and no DEV_OUTBOX means no outbox', async (t) => {
  t.same(setup().delivery.usesOutbox, { email: false, sms: false })
})

t.test('routing: DEV_OUTBOX=true sends every channel to the outbox, with the code', async (t) => {
  const { delivery, outbox, logs } = setup({ DEV_OUTBOX: 'true' })
  t.same(delivery.usesOutbox, { email: true, sms: true })
  t.same(await delivery.deliverCode({ ...emailRequest, locale: 'fr' }), { provider: 'outbox', messageId: null })
  t.same(await delivery.deliverCode(smsRequest), { provider: 'outbox', messageId: null })
  t.equal(sendGrid.requests.length + vonage.requests.length, 0, 'no provider called')
  const [email] = await outbox.list('jane@example.org')
  t.match(email, { to: 'jane@example.org', channel: 'email', code: '482913', sentAt: '2026-01-01T10:00:00.000Z' })
  t.match(email?.text, /^Votre code de vérification Acme est :\n\n482913/, 'the email text body')
  t.same(await outbox.list('+12015550123'), [{
    to: '+12015550123',
    channel: 'sms',
    code: '482913',
    text: 'Your Acme code is 482913. It expires in 5 minutes. Never share it.\n\n@login.acme.test #482913',
    sentAt: '2026-01-01T10:00:00.000Z'
  }], 'the SMS text')
  t.match(logs, [{ obj: { provider: 'outbox', outcome: 'delivered' } }, { obj: { provider: 'outbox', outcome: 'delivered' } }])
})

t.test('routing: with Redis or MongoDB and no DEV_OUTBOX, a channel without a full provider config is off: 503 naming it', async (t) => {
  const { delivery, outbox } = setup({ REDIS_URL: 'redis://127.0.0.1:1', VONAGE_API_KEY: '' })
  t.same(delivery.usesOutbox, { email: false, sms: false }, 'no outbox')
  t.same(delivery.offChannels, ['sms'])
  t.notOk(delivery.isAvailable('sms'))
  t.throws(() => delivery.assertAvailable('sms'), { code: 'service_unavailable', status: 503, detail: /SMS/ })
  const error = await appError(delivery.deliverCode(smsRequest))
  t.match(error, { code: 'service_unavailable', detail: /SMS/ })
  t.same(await outbox.list('+12015550123'), [], 'nothing in the outbox')
  t.equal(vonage.requests.length, 0)
  t.same((await delivery.deliverCode(emailRequest)).provider, 'sendgrid', 'email is on')
  t.same(setup({ MONGODB_URL: 'mongodb://127.0.0.1:1/x', EMAIL_FROM: '' }).delivery.offChannels, ['email'])
})

t.test('routing: in the embedded mode a channel without a full provider config goes to the outbox', async (t) => {
  t.same(setup({ SENDGRID_API_KEY: '' }).delivery.usesOutbox, { email: true, sms: false })
  t.same(setup({ EMAIL_FROM: '' }).delivery.usesOutbox, { email: true, sms: false })
  t.same(setup({ VONAGE_API_SECRET: '' }).delivery.usesOutbox, { email: false, sms: true })
  t.same(setup({ SMS_FROM: '' }).delivery.usesOutbox, { email: false, sms: true })
  const { delivery, outbox } = setup({ VONAGE_API_KEY: '' })
  await delivery.deliverCode(smsRequest)
  await delivery.deliverCode(emailRequest)
  t.equal((await outbox.list('+12015550123')).length, 1, 'SMS in the outbox')
  t.equal(sendGrid.requests.length, 1, 'email still through SendGrid')
  t.equal(vonage.requests.length, 0)
})

t.test('routing: production never uses the outbox', async (t) => {
  const production = {
    ...providers,
    NODE_ENV: 'production',
    REDIS_URL: 'redis://127.0.0.1:1',
    MONGODB_URL: 'mongodb://127.0.0.1:1/x',
    JWT_KEYS: '[]',
    OTP_PEPPER: 'p'.repeat(32),
    SMS_ALLOWED_COUNTRIES: 'US',
    TOTP_ENCRYPTION_KEYS: 'k1:' + 'A'.repeat(43) + '='
  }
  const delivery = createDelivery(loadConfig(production), { outbox: new MemoryOutbox() })
  t.same(delivery.usesOutbox, { email: false, sms: false })
})

t.test('an outbox store failure is a transient failure, retried then delivery_failed', async (t) => {
  const failing = { add: async () => { throw new Error('READONLY 482913') }, list: async () => [] }
  const sleeps: number[] = []
  const delivery = createDelivery(loadConfig({ NODE_ENV: 'test' }), { outbox: failing, sleep: async (ms) => { sleeps.push(ms) } })
  const error = await appError(delivery.deliverCode(smsRequest))
  t.equal(error.code, 'delivery_failed')
  t.equal(sleeps.length, 2)
  t.notMatch(leaks(error), SECRETS)
})

t.test('the circuit counts only the provider\'s own failures, and forgets them once it closes', async (t) => {
  let at = Date.parse('2026-01-01T10:00:00Z')
  const outbox = new MemoryOutbox()
  const delivery = createDelivery(loadConfig({ ...providers, DELIVERY_RETRIES: '0', DELIVERY_BREAKER_THRESHOLD: '3', DELIVERY_BREAKER_OPEN_SECONDS: '30' }), {
    outbox, sleep: async () => {}, now: () => new Date(at)
  })
  t.teardown(() => { vonage.reset() })
  // chosen destinations: a barred number, an unknown status; never the provider's health
  const unknownStatus = vonageStatus('99', 'Something unknown')
  for (const reply of [VONAGE_NON_WHITELISTED, unknownStatus, unknownStatus, unknownStatus, VONAGE_NON_WHITELISTED]) {
    vonage.queue(reply)
    await appError(delivery.deliverCode(smsRequest))
  }
  t.equal(delivery.isAvailable('sms'), true, 'five failures caused by destinations leave the circuit closed')
  // the provider's own: 5xx, and refused credentials
  vonage.queue({ status: 500, body: {} }, { status: 500, body: {} }, { status: 401, body: {} })
  for (let i = 0; i < 3; i++) await appError(delivery.deliverCode(smsRequest))
  t.equal(delivery.isAvailable('sms'), false, 'three provider failures open it')
  at += 31_000
  t.equal(delivery.isAvailable('sms'), true, 'closed again after its time')
  vonage.queue({ status: 500, body: {} })
  await appError(delivery.deliverCode(smsRequest))
  t.equal(delivery.isAvailable('sms'), true, 'one failure after it closed does not re-open it: the count started over')
})

t.test('a rehearsal renders the code message and waits as long as the provider was seen to take, sending nothing', async (t) => {
  const { delivery, sleeps, logs } = setup()
  sendGrid.answerAlways({ status: 202, delayMs: 120 })
  await delivery.deliverCode({ ...emailRequest, retries: 0 })
  t.equal(sendGrid.accepted().length, 1)
  await delivery.rehearseCode(emailRequest)
  t.equal(sendGrid.accepted().length, 1, 'no second request reached the provider')
  const [waited] = sleeps
  t.ok(waited !== undefined && waited >= 110, `waited about the provider's 120 ms (${waited} ms)`)
  t.equal(logs.length, 1, 'and logged nothing: the send logged once')
})
