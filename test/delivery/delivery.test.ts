import t from 'tap'
import { loadConfig } from '../../src/config.ts'
import { AppError } from '../../src/errors.ts'
import { createDelivery, type DeliverCodeRequest } from '../../src/delivery/delivery.ts'
import { MemoryOutbox } from '../../src/delivery/memory-outbox.ts'
import { DeliveryError } from '../../src/delivery/senders.ts'
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

async function rejection<E extends Error> (promise: Promise<unknown>, type: new (...args: any[]) => E): Promise<E> {
  const error = await promise.then(() => { throw new Error('expected a rejection') }, (error: unknown) => error)
  if (!(error instanceof type)) throw new Error(`expected a ${type.name}, got ${String(error)}`)
  return error
}
const appError = (promise: Promise<unknown>) => rejection(promise, AppError)
/** The sender's error, as the queue gets it: Delivery makes one attempt and leaves the retries to the queue. */
const deliveryError = (promise: Promise<unknown>) => rejection(promise, DeliveryError)

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

t.test('a 500 is one attempt: the sender\'s transient DeliveryError comes out, for the queue to retry', async (t) => {
  const { delivery, sleeps, logs } = setup()
  sendGrid.queue({ status: 500 })
  const error = await deliveryError(delivery.deliverCode({ ...emailRequest, attempt: 2 }))
  t.match(error, { kind: 'transient', providerStatus: '500' })
  t.equal(sendGrid.requests.length, 1, 'no retry here')
  t.same(sleeps, [], 'no backoff here')
  t.match(logs, [
    { level: 'warn', obj: { outcome: 'failed', attempt: 2, kind: 'transient', providerStatus: '500', recipient: 'j***@example.org' } }
  ])
})

t.test('a provider slower than the timeout: the attempt gives up at DELIVERY_TIMEOUT_MS, transient', async (t) => {
  const { delivery } = setup({ DELIVERY_TIMEOUT_MS: '200' })
  vonage.answerAlways({ delayMs: 1000 })
  const started = performance.now()
  const error = await deliveryError(delivery.deliverCode(smsRequest))
  t.equal(error.kind, 'transient')
  t.equal(vonage.requests.length, 1)
  t.ok(performance.now() - started < 900, 'gave up at 200 ms')
  t.notMatch(leaks(error), SECRETS)
})

t.test('an invalid recipient is invalid_recipient, which the queue does not retry', async (t) => {
  const { delivery, logs } = setup()
  sendGrid.queue(SENDGRID_INVALID_RECIPIENT)
  const error = await deliveryError(delivery.deliverCode(emailRequest))
  t.equal(error.kind, 'invalid_recipient')
  t.equal(sendGrid.requests.length, 1)
  t.match(logs, [{ level: 'warn', obj: { outcome: 'failed', kind: 'invalid_recipient', attempt: 1 } }])
  t.notMatch(leaks(error), SECRETS)
})

t.test('Vonage 200 with a non-zero status is a failure', async (t) => {
  const { delivery } = setup()
  vonage.queue(VONAGE_NON_WHITELISTED)
  t.equal((await deliveryError(delivery.deliverCode(smsRequest))).kind, 'invalid_recipient')
  vonage.queue(VONAGE_THROTTLED)
  t.equal((await deliveryError(delivery.deliverCode(smsRequest))).kind, 'transient', 'throttled (status 1) is worth another try')
  t.equal(vonage.accepted().length, 0)
})

t.test('a refusal is rejected', async (t) => {
  const { delivery } = setup()
  sendGrid.queue({ status: 401, body: { errors: [{ message: 'unauthorized', field: null }] } })
  t.match(await deliveryError(delivery.deliverCode(emailRequest)), { kind: 'rejected', providerStatus: '401' })
  t.equal(sendGrid.requests.length, 1)
})

t.test('a SendGrid 429 carries its Retry-After, the least the queue waits', async (t) => {
  const { delivery, sleeps } = setup()
  sendGrid.queue(sendGridRateLimited(2))
  t.match(await deliveryError(delivery.deliverCode(emailRequest)), { kind: 'transient', retryAfterMs: 2000 })
  t.same(sleeps, [])
  t.equal(sendGrid.requests.length, 1)
})

t.test('logs carry outcome, provider, latency, message id and the queue\'s attempt, never the code or the destination', async (t) => {
  const { delivery, logs } = setup()
  await delivery.deliverCode({ ...smsRequest, attempt: 3 })
  sendGrid.queue(SENDGRID_INVALID_RECIPIENT)
  await deliveryError(delivery.deliverCode(emailRequest))
  t.equal(logs.length, 2)
  const delivered = logs.find((line) => line.obj.outcome === 'delivered')
  t.match(delivered?.obj, { channel: 'sms', provider: 'vonage', purpose: 'login', recipient: '+1******0123', attempt: 3, messageId: 'fake-vonage-1', latencyMs: Number })
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

t.test('an outbox store failure is a transient failure', async (t) => {
  const failing = { add: async () => { throw new Error('READONLY 482913') }, list: async () => [], remove: async () => {} }
  const delivery = createDelivery(loadConfig({ NODE_ENV: 'test' }), { outbox: failing })
  const error = await deliveryError(delivery.deliverCode(smsRequest))
  t.match(error, { kind: 'transient', message: 'outbox: the store failed' })
  t.notMatch(leaks(error), SECRETS)
})

t.test('the circuit counts only the provider\'s own failures, and forgets them once it closes', async (t) => {
  let at = Date.parse('2026-01-01T10:00:00Z')
  const outbox = new MemoryOutbox()
  const delivery = createDelivery(loadConfig({ ...providers, DELIVERY_BREAKER_THRESHOLD: '3', DELIVERY_BREAKER_OPEN_SECONDS: '30' }), {
    outbox, now: () => new Date(at)
  })
  const available = () => {
    try {
      delivery.assertAvailable('sms')
      return true
    } catch {
      return false
    }
  }
  t.teardown(() => { vonage.reset() })
  // chosen destinations: a barred number, an unknown status; never the provider's health
  const unknownStatus = vonageStatus('99', 'Something unknown')
  for (const reply of [VONAGE_NON_WHITELISTED, unknownStatus, unknownStatus, unknownStatus, VONAGE_NON_WHITELISTED]) {
    vonage.queue(reply)
    await deliveryError(delivery.deliverCode(smsRequest))
  }
  t.equal(available(), true, 'five failures caused by destinations leave the circuit closed')
  // the provider's own: 5xx, and refused credentials
  vonage.queue({ status: 500, body: {} }, { status: 500, body: {} }, { status: 401, body: {} })
  for (let i = 0; i < 3; i++) await deliveryError(delivery.deliverCode(smsRequest))
  t.equal(available(), false, 'three provider failures open it')
  at += 31_000
  t.equal(available(), true, 'closed again after its time')
  vonage.queue({ status: 500, body: {} })
  await deliveryError(delivery.deliverCode(smsRequest))
  t.equal(available(), true, 'one failure after it closed does not re-open it: the count started over')
})

// The queue retries the sends that failed before the circuit opened, and they fail too while the provider is
// down: were each to open it anew, a 10 s outage would keep codes refused for 30 s after the last retry
t.test('failures while the circuit is open do not keep it open: it closes DELIVERY_BREAKER_OPEN_SECONDS after it opened', async (t) => {
  let at = Date.parse('2026-01-01T10:00:00Z')
  const opened: number[] = []
  const delivery = createDelivery(loadConfig({ ...providers, DELIVERY_BREAKER_THRESHOLD: '3', DELIVERY_BREAKER_OPEN_SECONDS: '30' }), {
    outbox: new MemoryOutbox(), now: () => new Date(at), onCircuitOpen: (_channel, until) => { opened.push(until) }
  })
  t.teardown(() => { vonage.reset() })
  const failing = async (count: number) => {
    for (let i = 0; i < count; i++) {
      vonage.queue({ status: 500, body: {} })
      await deliveryError(delivery.deliverCode(smsRequest))
    }
  }
  await failing(3)
  t.throws(() => delivery.assertAvailable('sms'), { code: 'service_unavailable' }, 'three provider failures open it')
  const closesAt = at + 30_000
  at += 10_000
  await failing(4)
  t.same(opened, [closesAt], 'the retries that failed while it was open did not open it again')
  at = closesAt
  t.doesNotThrow(() => delivery.assertAvailable('sms'), 'closed 30 s after it opened')
})

t.test('a notice goes out like a code, without one: by SMS through Vonage, by email through SendGrid', async (t) => {
  const { delivery, logs } = setup()
  await delivery.deliverNotice({ channel: 'sms', to: smsRequest.to, locale: 'en', notice: { kind: 'login_throttled', minutes: 15 }, attempt: 2 })
  t.match(vonage.requests[0]?.body, { to: '12015550123', text: /15 minutes/ })
  await delivery.deliverNotice({ channel: 'email', to: emailRequest.to, locale: 'en', notice: { kind: 'identifier_changed', maskedIdentifier: '+1******0147' } })
  t.match(sendGrid.requests[0]?.body.content[0].value, '+1******0147')
  t.match(logs, [{ obj: { outcome: 'delivered', purpose: 'login_throttled', attempt: 2 } }, { obj: { outcome: 'delivered', purpose: 'identifier_changed' } }])
  for (const line of logs) t.notMatch(JSON.stringify(line), SECRETS, line.msg)
})

t.test('a rehearsal renders the code message and waits as long as the provider was seen to take, sending nothing', async (t) => {
  const { delivery, sleeps, logs } = setup()
  sendGrid.answerAlways({ status: 202, delayMs: 120 })
  await delivery.deliverCode(emailRequest)
  t.equal(sendGrid.accepted().length, 1)
  await delivery.rehearseCode(emailRequest)
  t.equal(sendGrid.accepted().length, 1, 'no second request reached the provider')
  const [waited] = sleeps
  t.ok(waited !== undefined && waited >= 110, `waited about the provider's 120 ms (${waited} ms)`)
  t.equal(logs.length, 1, 'and logged nothing: the send logged once')
})
