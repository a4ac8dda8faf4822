import t from 'tap'
import { randomBytes } from 'node:crypto'
import { buildTestApp } from '../helpers/build-app.ts'
import { dumpKeys } from '../helpers/redis.ts'
import { sendGridEnv, startFakeSendGrid } from '../helpers/fake-sendgrid.ts'
import { deliveriesSettled, newEmail } from '../helpers/login.ts'
import { JobCipher, sealingContext } from '../../src/delivery/job-cipher.ts'
import { createNoticeJobHandler } from '../../src/delivery/notice-job-handler.ts'
import type { DeliverNoticeRequest } from '../../src/delivery/delivery.ts'
import { renderNoticeEmail, renderNoticeSms } from '../../src/delivery/templates/render.ts'

t.test('a queued notice holds its destination sealed, like a code; a channel that is off queues nothing', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, env: { DELIVERY_WORKER: 'false' } })
  const to = newEmail('notice')
  await app.notifier.notify({ kind: 'identifier_changed', channel: 'email', to, locale: 'fr', maskedIdentifier: '+1******0147' })
  t.equal(await app.deliveryQueue.pending(), 0, 'no email provider and no outbox: nowhere to send it')

  const withEmail = await buildTestApp(t, { loadShedding: false, outbox: true, env: { DELIVERY_WORKER: 'false' } })
  await withEmail.notifier.notify({ kind: 'login_throttled', channel: 'email', to, locale: null, minutes: 15 })
  t.equal(await withEmail.deliveryQueue.pending(), 1, 'queued')
  const stored = await dumpKeys(withEmail.redis!, '')
  t.notMatch(stored, to, 'the address is not in Redis in the clear')
  t.match(stored, 'login_throttled', 'what the notice says is')
})

t.test('the worker sends a notice through the provider, in the user\'s language', async (t) => {
  const sendgrid = await startFakeSendGrid()
  t.teardown(() => sendgrid.close())
  const app = await buildTestApp(t, { loadShedding: false, env: sendGridEnv(sendgrid) })
  const to = newEmail('notice')
  await app.notifier.notify({ kind: 'identifier_changed', channel: 'email', to, locale: 'de-AT', maskedIdentifier: 'n***@example.org' })
  await deliveriesSettled(app)
  const [mail] = sendgrid.accepted()
  t.same(mail?.body.personalizations[0].to, [{ email: to }])
  t.match(mail?.body.subject, /Konto/)
  t.match(mail?.body.content[0].value, 'n***@example.org')
})

t.test('the notice handler: sends with the sealed destination, drops an expired notice, rejects a payload that does not open', async (t) => {
  const cipher = new JobCipher([randomBytes(32)])
  const now = 1_800_000_000_000
  const base = { channel: 'sms' as const, challengeId: 'notice-1', expiresAt: now + 1000, locale: 'fr', purpose: 'login_throttled', id: '1', attempt: 1, enqueuedAt: now }
  const job = { ...base, kind: 'notice' as const, notice: { kind: 'login_throttled' as const, minutes: 15 }, sealed: cipher.seal({ code: '', to: '+12015550147' }, sealingContext(base)) }
  const sent: DeliverNoticeRequest[] = []
  const consumer = createNoticeJobHandler({ cipher, now: () => now, delivery: { deliverNotice: async (request) => { sent.push(request); return { provider: 'outbox', messageId: null } } } })
  t.equal(await consumer(job), 'sent')
  t.match(sent, [{ channel: 'sms', to: '+12015550147', locale: 'fr', notice: { kind: 'login_throttled', minutes: 15 }, attempt: 1 }])
  t.equal(await createNoticeJobHandler({ cipher, now: () => job.expiresAt, delivery: { deliverNotice: async () => { throw new Error('not sent') } } })(job), 'dropped')
  await t.rejects(createNoticeJobHandler({ cipher: new JobCipher([randomBytes(32)]), delivery: { deliverNotice: async () => { throw new Error('not sent') } }, now: () => now })(job), { kind: 'rejected', message: /does not open/ })
})

t.test('notice texts: per language, escaped in HTML, GSM-7 friendly and short as SMS', async (t) => {
  const email = renderNoticeEmail({ kind: 'identifier_changed', locale: 'fr-CA', appName: '<Acme>', channel: 'email', maskedIdentifier: 'j***@example.org' })
  t.match(email.subject, /adresse e-mail/)
  t.match(email.html, '&lt;Acme&gt;')
  t.notMatch(email.html, '<Acme>')
  const sms = renderNoticeSms({ kind: 'login_throttled', locale: 'xx', appName: 'Acme', channel: 'sms', minutes: 15 })
  t.match(sms, /15 minutes/)
  t.ok(sms.length <= 160, 'one SMS segment')
})
