import t from 'tap'
import type { Test } from 'tap'
import { buildTestApp, type TestAppOptions } from '../helpers/build-app.ts'
import { codeFromOutbox, startLogin } from '../helpers/login.ts'
import type { SmsBlock } from '../../src/delivery/sms-guard.ts'

// three ranges of one country (US, NANP 201-555/556/557) and the clock the guard and its Lua script read
const inRange = (range: string, n: number) => `+1201${range}${String(n).padStart(4, '0')}`

/**
 * The conversion guard alone: the per-IP limiter is lifted, every start goes to a new number (no cooldown or
 * quota), and the country budget is far away; codes go to the dev outbox.
 */
async function guardedApp (t: Test, options: TestAppOptions = {}) {
  let now = new Date('2030-05-01T10:00:00.000Z')
  const blocks: SmsBlock[] = []
  const app = await buildTestApp(t, {
    limiter: false,
    loadShedding: false,
    outbox: true,
    ...options,
    now: () => now,
    onSmsBlock: (block) => { blocks.push(block) },
    env: { SMS_FRAUD_MIN_SENDS: '20', SMS_COUNTRY_HOURLY_BUDGET: '100000', ...options.env }
  })
  return { app, blocks, advance: (seconds: number) => { now = new Date(now.getTime() + seconds * 1000) } }
}

for (const stores of ['real', 'memory'] as const) {
  t.test(`${stores} stores: a range whose codes are not used is blocked, its neighbours and used ranges are not`, async (t) => {
    const { app, blocks, advance } = await guardedApp(t, { stores })
    for (let n = 0; n < 20; n++) t.equal((await startLogin(app, { phone: inRange('555', n) })).statusCode, 202, `send ${n + 1}`)

    const refused = await startLogin(app, { phone: inRange('555', 20) })
    t.equal(refused.statusCode, 403, 'the 21st to the range')
    t.equal(refused.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.match(refused.json(), { code: 'destination_blocked', status: 403, detail: /email/ })
    await t.rejects(codeFromOutbox(app, inRange('555', 20)), /no message/, 'nothing sent for it')
    t.same(blocks.map(({ reason, destination }) => [reason, destination]), [['range_conversion', inRange('555', 20)]], 'the metric hook heard it')

    t.equal((await startLogin(app, { phone: inRange('556', 0) })).statusCode, 202, 'another range of the same country')

    // a range whose codes are used: every one verified, then the 21st is sent as well
    for (let n = 0; n < 20; n++) {
      const phone = inRange('557', n)
      const started = await startLogin(app, { phone })
      const code = await codeFromOutbox(app, phone)
      const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })
      t.equal(verified.statusCode, 200)
    }
    t.equal((await startLogin(app, { phone: inRange('557', 20) })).statusCode, 202, 'a range with verified codes is not blocked')

    t.equal((await startLogin(app, { phone: inRange('555', 21) })).statusCode, 403, 'still blocked a minute before the end')
    advance(3600)
    t.equal((await startLogin(app, { phone: inRange('555', 22) })).statusCode, 202, 'the block ended after SMS_FRAUD_BLOCK_SECONDS')

    await app.audit.flush()
    const page = await app.audit.list('none', { limit: 1 })
    t.same(page.events, [], 'guard blocks belong to no user')
    t.equal(app.audit.stats().failed, 0)
  })
}

t.test('the block is an audit event with the masked number, and exempt prefixes are never blocked', async (t) => {
  const { app } = await guardedApp(t, { env: { SMS_FRAUD_ALLOW_PREFIXES: '+1201558' } })
  for (let n = 0; n < 25; n++) t.equal((await startLogin(app, { phone: inRange('558', n) })).statusCode, 202)
  for (let n = 0; n < 20; n++) await startLogin(app, { phone: inRange('555', n) })
  t.equal((await startLogin(app, { phone: inRange('555', 20) })).statusCode, 403)
  await app.audit.flush()
  const stored = await app.mongo!.collection('audit_events').find({ type: 'sms_guard_block' }).toArray()
  t.match(stored, [{ type: 'sms_guard_block', userId: null, identifier: '+1******0020', reason: 'range_conversion', ip: '127.0.0.1' }])
})

t.test('enough blocked ranges block the country (SMS_FRAUD_COUNTRY_BLOCKED_PREFIXES)', async (t) => {
  const { app } = await guardedApp(t, { stores: 'memory', env: { SMS_FRAUD_MIN_SENDS: '2', SMS_FRAUD_COUNTRY_BLOCKED_PREFIXES: '2' } })
  for (const range of ['555', '556']) {
    for (let n = 0; n < 2; n++) await startLogin(app, { phone: inRange(range, n) })
    t.equal((await startLogin(app, { phone: inRange(range, 9) })).json().code, 'destination_blocked')
  }
  const country = await startLogin(app, { phone: inRange('557', 0) })
  t.match(country.json(), { code: 'destination_blocked', detail: /country/ })
  t.equal((await startLogin(app, { phone: '+33612345678' })).statusCode, 202, 'France is not the US')
})
