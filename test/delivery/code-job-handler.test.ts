import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createCodeJobHandler } from '../../src/delivery/code-job-handler.ts'
import { JobCipher, sealingContext } from '../../src/delivery/job-cipher.ts'
import { DeliveryError } from '../../src/delivery/senders.ts'

const cipher = new JobCipher([randomBytes(32)])
const now = 1_800_000_000_000
const base = { kind: 'code' as const, channel: 'email' as const, challengeId: 'ab12.AAAAAAAAAAAAAAAAAAAAAA', expiresAt: now + 90_000, locale: null, purpose: 'login', id: '1', attempt: 1, enqueuedAt: now }
const job = { ...base, sealed: cipher.seal({ code: '123456', to: 'jane@example.org' }, sealingContext(base)) }
const rehearseCode = async () => { throw new Error('must not rehearse') }

t.test('sends once, with the time the code has left and the queue\'s attempt, and leaves retries to the queue', async (t) => {
  const requests: unknown[] = []
  const consumer = createCodeJobHandler({ cipher, now: () => now, deliveryOf: async () => 'send', delivery: { deliverCode: async (request) => { requests.push(request); return { provider: 'outbox', messageId: null } }, rehearseCode } })
  t.equal(await consumer(job), 'sent')
  t.match(requests, [{ to: 'jane@example.org', code: '123456', expiresInSeconds: 90, attempt: 1 }])
})

t.test('drops an expired or replaced code without sending; a failing check is transient', async (t) => {
  const deliverCode = async () => { throw new Error('must not send') }
  t.equal(await createCodeJobHandler({ cipher, now: () => job.expiresAt, deliveryOf: async () => 'send', delivery: { deliverCode, rehearseCode } })(job), 'dropped')
  t.equal(await createCodeJobHandler({ cipher, now: () => now, deliveryOf: async () => 'drop', delivery: { deliverCode, rehearseCode } })(job), 'dropped')
  await t.rejects(createCodeJobHandler({ cipher, now: () => now, deliveryOf: async () => { throw new Error('redis down') }, delivery: { deliverCode, rehearseCode } })(job), { kind: 'transient', message: 'otp store: could not check the challenge' })
})

t.test('the sender\'s DeliveryError comes out as it is; a payload that does not open is rejected', async (t) => {
  const failure = new DeliveryError('invalid_recipient', 'sendgrid: HTTP 400, invalid recipient')
  const deliverCode = async () => { throw failure }
  await t.rejects(createCodeJobHandler({
    cipher, now: () => now, deliveryOf: async () => 'send', delivery: { deliverCode, rehearseCode }
  })(job), failure)
  const stranger = createCodeJobHandler({
    cipher: new JobCipher([randomBytes(32)]), now: () => now, deliveryOf: async () => 'send', delivery: { deliverCode, rehearseCode }
  })
  await t.rejects(stranger(job), { kind: 'rejected', message: /does not open/ })
})

t.test('a decoy\'s code is opened and rehearsed (rendered, the provider\'s time waited), never sent, then dropped', async (t) => {
  const rehearsed: unknown[] = []
  const consumer = createCodeJobHandler({
    cipher,
    now: () => now,
    deliveryOf: async () => 'rehearse',
    delivery: {
      deliverCode: async () => { throw new Error('must not send') },
      rehearseCode: async (request) => { rehearsed.push(request) }
    }
  })
  t.equal(await consumer(job), 'dropped')
  t.match(rehearsed, [{ to: 'jane@example.org', code: '123456', channel: 'email', purpose: 'login', expiresInSeconds: 90 }], 'what a real send would have been given')
  const stranger = createCodeJobHandler({
    cipher: new JobCipher([randomBytes(32)]), now: () => now, deliveryOf: async () => 'rehearse', delivery: { deliverCode: rehearseCode, rehearseCode }
  })
  await t.rejects(stranger(job), { kind: 'rejected', message: /does not open/ }, 'a decoy\'s payload is opened like a real one')
})
