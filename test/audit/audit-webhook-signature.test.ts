import t from 'tap'
import { createHmac } from 'node:crypto'
import { SIGNATURE_TOLERANCE_SECONDS, verifyWebhookSignature, webhookSignature } from '../../src/audit/audit-webhook-signature.ts'

const SECRET = 'a-webhook-secret-of-at-least-32-characters'
const body = '{"id":"b1","events":[],"anonymous":[]}'
const sentAt = 1_800_000_000

t.test('t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">', async (t) => {
  const expected = createHmac('sha256', SECRET).update(`${sentAt}.${body}`).digest('hex')
  t.equal(webhookSignature(SECRET, body, sentAt), `t=${sentAt},v1=${expected}`)
})

t.test('a receiver accepts it within the tolerance, and refuses it older or newer than that', async (t) => {
  const header = webhookSignature(SECRET, body, sentAt)
  t.equal(SIGNATURE_TOLERANCE_SECONDS, 300)
  t.ok(verifyWebhookSignature(SECRET, header, body, sentAt))
  t.ok(verifyWebhookSignature(SECRET, header, body, sentAt + 300), 'five minutes late')
  t.notOk(verifyWebhookSignature(SECRET, header, body, sentAt + 301), 'replayed later than that')
  t.notOk(verifyWebhookSignature(SECRET, header, body, sentAt - 301), 'from too far ahead')
  t.ok(verifyWebhookSignature(SECRET, header, body, sentAt + 3000, 3600), 'a receiver may choose its own tolerance')
})

t.test('refused: another body, another secret, a time changed after signing, a malformed header', async (t) => {
  const header = webhookSignature(SECRET, body, sentAt)
  t.notOk(verifyWebhookSignature(SECRET, header, body.replace('b1', 'b2'), sentAt))
  t.notOk(verifyWebhookSignature('another-secret-of-at-least-32-characters', header, body, sentAt))
  t.notOk(verifyWebhookSignature(SECRET, header.replace(`t=${sentAt}`, `t=${sentAt + 60}`), body, sentAt + 60), 'a fresh t on an old signature')
  for (const malformed of ['', 'v1=abc', `t=${sentAt}`, `t=soon,v1=${'0'.repeat(64)}`, `t=${sentAt},v1=zz`, `sha256=${'0'.repeat(64)}`]) {
    t.notOk(verifyWebhookSignature(SECRET, malformed, body, sentAt), malformed || 'empty')
  }
})

t.test('any v1 of the header may match: one per secret, should a sender sign with two while rotating', async (t) => {
  const [, v1] = webhookSignature(SECRET, body, sentAt).split(',')
  t.ok(verifyWebhookSignature(SECRET, `t=${sentAt},v1=${'0'.repeat(64)},${v1}`, body, sentAt))
})
