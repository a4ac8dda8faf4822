import t from 'tap'
import { SendGridSender, parseRetryAfter } from '../../src/delivery/sendgrid-sender.ts'
import { DeliveryError } from '../../src/delivery/senders.ts'
import { startFakeSendGrid, SENDGRID_INVALID_RECIPIENT, sendGridError, sendGridRateLimited } from '../helpers/fake-sendgrid.ts'

const fake = await startFakeSendGrid()
t.teardown(() => fake.close())
t.beforeEach(() => fake.reset())

const sender = (options: { timeoutMs?: number, baseUrl?: string, name?: string } = {}) => new SendGridSender({
  apiKey: 'SG.test-key',
  from: { email: 'codes@otp-gate.test', ...(options.name === undefined ? {} : { name: options.name }) },
  baseUrl: options.baseUrl ?? fake.url,
  timeoutMs: options.timeoutMs ?? 1000
})

const email = { to: 'jane@example.org', subject: 'Your code', text: 'Your code is 123456', html: '<p>Your code is <b>123456</b></p>' }

async function failure (promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(() => { throw new Error('expected a rejection') }, (error: unknown) => error)
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`)
  return error
}

t.test('sends one message through the SDK: bearer key, recipient, sender, subject and both bodies', async (t) => {
  const result = await sender({ name: 'Acme' }).send(email)
  t.same(result, { messageId: 'fake-sg-1' }, 'the X-Message-Id of the answer')
  t.equal(fake.requests.length, 1)
  const [request] = fake.requests
  t.equal(request?.method, 'POST')
  t.equal(request?.path, '/v3/mail/send')
  t.equal(request?.headers.authorization, 'Bearer SG.test-key')
  t.match(request?.headers['content-type'], /^application\/json/)
  t.same(request?.body.personalizations, [{ to: [{ email: 'jane@example.org' }] }])
  t.same(request?.body.from, { email: 'codes@otp-gate.test', name: 'Acme' })
  t.equal(request?.body.subject, 'Your code')
  t.same(request?.body.content, [{ type: 'text/plain', value: email.text }, { type: 'text/html', value: email.html }])
})

t.test('without a sender name, the from object has the address only', async (t) => {
  await sender().send(email)
  t.same(fake.requests[0]?.body.from, { email: 'codes@otp-gate.test' })
})

t.test('a 5xx is transient', async (t) => {
  fake.queue({ status: 503 })
  const error = await failure(sender().send(email))
  t.equal(error.kind, 'transient')
  t.equal(error.providerStatus, '503')
})

t.test('a 429 is transient and carries its Retry-After', async (t) => {
  fake.queue(sendGridRateLimited(3))
  const error = await failure(sender().send(email))
  t.equal(error.kind, 'transient')
  t.equal(error.retryAfterMs, 3000)
})

t.test('a 400 blaming the recipient is invalid_recipient', async (t) => {
  fake.queue(SENDGRID_INVALID_RECIPIENT)
  const error = await failure(sender().send(email))
  t.equal(error.kind, 'invalid_recipient')
  t.notMatch(error.message, /jane/, 'the message does not quote the address')
})

t.test('other 4xx are rejected', async (t) => {
  for (const reply of [
    sendGridError(400, [{ message: 'The from address does not match a verified Sender Identity.', field: 'from' }]),
    sendGridError(401, [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null }]),
    sendGridError(403, [{ message: 'access forbidden', field: null }]),
    { status: 413 }
  ]) {
    fake.queue(reply)
    const error = await failure(sender().send(email))
    t.equal(error.kind, 'rejected', `HTTP ${reply.status}`)
  }
})

t.test('no answer within the timeout is transient', async (t) => {
  fake.queue({ status: 202, delayMs: 1000 })
  const started = performance.now()
  const error = await failure(sender({ timeoutMs: 200 }).send(email))
  t.equal(error.kind, 'transient')
  t.ok(performance.now() - started < 900, 'gave up at the timeout, not at the answer')
})

t.test('a refused connection is transient, and the error holds neither key nor message', async (t) => {
  const closed = await startFakeSendGrid()
  await closed.close()
  const error = await failure(sender({ baseUrl: closed.url }).send(email))
  t.equal(error.kind, 'transient')
  t.notMatch(JSON.stringify({ ...error, message: error.message }), /SG\.test-key|123456/)
})

t.test('parseRetryAfter reads seconds and HTTP dates', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  t.equal(parseRetryAfter('2', now), 2000)
  t.equal(parseRetryAfter('0', now), 0)
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000)
  t.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0, 'a date in the past means now')
  t.equal(parseRetryAfter(undefined, now), undefined)
  t.equal(parseRetryAfter('soon', now), undefined)
})
