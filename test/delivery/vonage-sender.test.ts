import t from 'tap'
import { VonageSender } from '../../src/delivery/vonage-sender.ts'
import { DeliveryError, type DeliveryErrorKind } from '../../src/delivery/senders.ts'
import { startFakeVonage, vonageStatus, VONAGE_NON_WHITELISTED, VONAGE_THROTTLED } from '../helpers/fake-vonage.ts'

const fake = await startFakeVonage()
t.teardown(() => fake.close())
t.beforeEach(() => fake.reset())

const sender = (options: { timeoutMs?: number, baseUrl?: string } = {}) => new VonageSender({
  apiKey: 'vonage-key',
  apiSecret: 'vonage-secret',
  from: 'OtpGate',
  baseUrl: options.baseUrl ?? fake.url,
  timeoutMs: options.timeoutMs ?? 1000
})

const sms = { to: '+12015550123', text: 'Your otp-gate code is 123456.' }

async function failure (promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(() => { throw new Error('expected a rejection') }, (error: unknown) => error)
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`)
  return error
}

t.test('sends one SMS through the SDK: basic auth with key and secret, sender id, number without +, text', async (t) => {
  const result = await sender().send(sms)
  t.same(result, { messageId: 'fake-vonage-1' })
  t.equal(fake.requests.length, 1)
  const [request] = fake.requests
  t.equal(request?.method, 'POST')
  t.equal(request?.path, '/sms/json')
  t.equal(request?.headers.authorization, `Basic ${Buffer.from('vonage-key:vonage-secret').toString('base64')}`)
  t.match(request?.headers['content-type'], /^application\/json/)
  t.same(request?.body, { from: 'OtpGate', to: '12015550123', text: sms.text }, 'GSM-7 text goes as the default type')
})

t.test('a text outside GSM-7 goes as unicode', async (t) => {
  await sender().send({ to: sms.to, text: 'Votre code Ĉiĉ est 123456' })
  t.equal(fake.requests[0]?.body.type, 'unicode')
})

t.test('a trailing slash on the base URL does not double the slash', async (t) => {
  await sender({ baseUrl: `${fake.url}/` }).send(sms)
  t.equal(fake.requests[0]?.path, '/sms/json')
})

t.test('HTTP 200 with a non-zero message status is a failure, classified by status', async (t) => {
  const cases: Array<[string, string, DeliveryErrorKind]> = [
    ['1', 'Throttled', 'transient'],
    ['5', 'Internal Error', 'transient'],
    ['10', 'Too many existing binds', 'transient'],
    ['3', 'Invalid to address', 'invalid_recipient'],
    ['3', 'Invalid from param', 'rejected'],
    ['6', 'Invalid Message', 'invalid_recipient'],
    ['7', 'Number barred', 'invalid_recipient'],
    ['29', 'Non White-listed Destination - rejected', 'invalid_recipient'],
    ['33', 'Number de-activated', 'invalid_recipient'],
    ['2', 'Missing to param', 'rejected'],
    ['4', 'Bad Credentials', 'rejected'],
    ['9', 'Quota Exceeded - rejected', 'rejected'],
    ['15', 'Illegal Sender Address - rejected', 'rejected'],
    ['99', 'Something new', 'rejected']
  ]
  for (const [status, errorText, kind] of cases) {
    fake.queue(vonageStatus(status, errorText))
    const error = await failure(sender().send(sms))
    t.equal(error.kind, kind, `status ${status} (${errorText})`)
    t.equal(error.providerStatus, status)
  }
  t.equal(fake.accepted().length, 0, 'Vonage accepted none of them')
})

t.test('the error message names the status, not the number or the text', async (t) => {
  fake.queue(VONAGE_NON_WHITELISTED)
  const error = await failure(sender().send(sms))
  t.equal(error.message, 'vonage: status 29')
  fake.queue(VONAGE_THROTTLED)
  t.equal((await failure(sender().send(sms))).kind, 'transient')
})

t.test('HTTP 5xx and 429 are transient, other 4xx rejected', async (t) => {
  fake.queue({ status: 500 }, { status: 502, body: { title: 'Bad gateway' } }, { status: 429 }, { status: 401, body: { title: 'Unauthorized' } })
  t.equal((await failure(sender().send(sms))).kind, 'transient')
  t.equal((await failure(sender().send(sms))).kind, 'transient')
  t.equal((await failure(sender().send(sms))).kind, 'transient')
  const unauthorized = await failure(sender().send(sms))
  t.equal(unauthorized.kind, 'rejected')
  t.equal(unauthorized.providerStatus, '401')
})

t.test('no answer within the timeout is transient', async (t) => {
  fake.queue({ delayMs: 1000 })
  const started = performance.now()
  const error = await failure(sender({ timeoutMs: 200 }).send(sms))
  t.equal(error.kind, 'transient')
  t.equal(error.message, 'vonage: timeout')
  t.ok(performance.now() - started < 900, 'gave up at the timeout')
})

t.test('a refused connection is transient', async (t) => {
  const closed = await startFakeVonage()
  await closed.close()
  const error = await failure(sender({ baseUrl: closed.url }).send(sms))
  t.equal(error.kind, 'transient')
  t.equal(error.message, 'vonage: network error')
})
