import t from 'tap'
import { Writable } from 'node:stream'
import { buildTestApp } from './helpers/build-app.ts'
import { bearer, codeFromOutbox, deliveriesSettled, newEmail, newPhone, startLogin } from './helpers/login.ts'
import { serializeError } from '../plugins/logger.ts'

t.test('every log line of a request carries its id, and no line holds a code, token, email or phone', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done() } })
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, logger: { level: 'trace', stream } as never })

  const email = newEmail()
  const phone = newPhone()
  const started = await startLogin(app, { email })
  await startLogin(app, { phone })
  const code = await codeFromOutbox(app, email)
  await deliveriesSettled(app)
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })
  const { accessToken, refreshToken } = verified.json()
  await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })
  await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken } })

  const entries = lines.map((line) => JSON.parse(line))
  const requestLines = entries.filter((entry) => entry.req || entry.res)
  for (const entry of requestLines) t.match(entry.reqId, /^[0-9a-f-]{36}$/, `request id on: ${entry.msg}`)
  // delivery runs after the answer, in the queue's worker: its lines name the challenge the answer named
  const deliveryLines = entries.filter((entry) => entry.component === 'delivery' || entry.component === 'delivery-queue')
  t.ok(deliveryLines.some((entry) => entry.msg === 'code delivered'), 'delivery is logged')
  t.ok(deliveryLines.some((entry) => entry.challengeId === started.json().challengeId), 'with the challenge id the start answered')
  const all = lines.join('\n')
  for (const secret of [code, accessToken, refreshToken, email, phone, phone.slice(1)]) t.notOk(all.includes(secret), 'a secret stayed out of the logs')
})

t.test('a client request id is kept only when it is a plain token; anything else is replaced, in the answer and the logs', async (t) => {
  const lines: Array<{ reqId?: string, msg: string }> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(...String(chunk).split('\n').filter(Boolean).map((line) => JSON.parse(line))); done() } })
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, logger: { level: 'info', stream } as never })

  const kept = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'trace-1.2_3' } })
  t.equal(kept.statusCode, 200)
  t.equal(kept.headers['x-request-id'], 'trace-1.2_3', 'a plain token is kept')

  const hostile = ['forged\nreqId: admin', 'a'.repeat(200), '{"reqId":"admin","level":60}', 'spaced id', '']
  for (const header of hostile) {
    lines.length = 0
    const response = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': header } })
    const name = JSON.stringify(header.slice(0, 30))
    t.equal(response.statusCode, 200, `${name}: answered`)
    const id = String(response.headers['x-request-id'])
    t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `${name}: replaced by a server id`)
    const logged = lines.filter((line) => line.reqId !== undefined)
    t.ok(logged.length > 0 && logged.every((line) => line.reqId === id), `${name}: the log lines carry the server id`)
  }
})

t.test('an err that is a message, not an Error, is logged as that message instead of crashing the logger', async (t) => {
  t.equal(serializeError('delivery worker error: connection lost'), 'delivery worker error: connection lost')
  t.match(serializeError(new TypeError('boom')), { type: 'TypeError', message: 'boom' })
})
