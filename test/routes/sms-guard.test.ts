import t from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, type TestAppOptions } from '../helpers/build-app.ts'
import { startFakeVonage } from '../helpers/fake-vonage.ts'
import { createTestRedis, listKeys, uniqueKeyPrefix } from '../helpers/redis.ts'
import { bearer, deliveriesSettled, login, newEmail, startLogin } from '../helpers/login.ts'

const vonage = await startFakeVonage()
const redis = createTestRedis()
t.teardown(async () => { await vonage.close(); await redis.quit() })

const PREMIUM_RATE = '+19005550123'
const OUTSIDE_ALLOW_LIST = '+4915123456789' // a German mobile
const FIXED_LINE = '+33140000000'
const TOLL_FREE = '+18005550100'
const FR_MOBILE = '+33612345678'
const usNumber = (n: number) => `+1201555${String(n).padStart(4, '0')}`

/** The app with SMS going through the Vonage SDK to the fake, US and FR allowed, 3 SMS per country and hour. */
async function smsApp (t: Test, env: Record<string, string> = {}, options: TestAppOptions = {}) {
  vonage.reset()
  const redisKeyPrefix = uniqueKeyPrefix('sms-guard')
  const app = await buildTestApp(t, {
    redisKeyPrefix,
    loadShedding: false,
    ...options,
    env: {
      VONAGE_API_KEY: 'key',
      VONAGE_API_SECRET: 'secret',
      SMS_FROM: 'otp-gate',
      VONAGE_BASE_URL: vonage.url,
      SMS_ALLOWED_COUNTRIES: 'US,FR',
      SMS_COUNTRY_HOURLY_BUDGET: '3',
      SMS_COUNTRY_IP_SHARE: '1',
      ...env
    }
  })
  const keys = async (under: string) => (await listKeys(redis, `${redisKeyPrefix}${under}`)).map(({ key }) => key)
  return { app, keys }
}

/** The numbers Vonage was asked to text once the queued deliveries are done, sorted: jobs start in no set order. */
const texted = async (app: FastifyInstance) => {
  await deliveriesSettled(app)
  return vonage.accepted().map((request) => `+${request.body.to}`).sort()
}
/** What reached Vonage at all, once the queued deliveries are done. */
const vonageRequests = async (app: FastifyInstance) => {
  await deliveriesSettled(app)
  return vonage.requests
}
const resend = (app: FastifyInstance, challengeId: string) => app.inject({ method: 'POST', url: '/v1/auth/otp/resend', payload: { challengeId } })
t.test('premium-rate, outside the allow-list, fixed line, toll-free: 422, nothing stored, nothing sent', async (t) => {
  const { app, keys } = await smsApp(t)
  for (const phone of [PREMIUM_RATE, OUTSIDE_ALLOW_LIST, FIXED_LINE, TOLL_FREE]) {
    const response = await startLogin(app, { phone })
    t.equal(response.statusCode, 422, phone)
    t.match(response.json(), { code: 'invalid_destination', status: 422 })
  }
  t.same(await vonageRequests(app), [], 'no request reached Vonage')
  t.same(await keys('otp:'), [], 'no challenge, cooldown or quota stored')
  t.same(await keys('sms-budget:'), [], 'nothing counted')

  const allowed = await startLogin(app, { phone: usNumber(1) })
  t.equal(allowed.statusCode, 202, 'an allowed mobile number goes through the same path')
  t.same(await texted(app), [usNumber(1)], 'and reaches Vonage')
})

t.test('the country budget runs out: 429 until the hour ends, nothing stored or sent, other countries unaffected', async (t) => {
  let now = new Date('2030-05-01T10:59:00.000Z')
  const { app, keys } = await smsApp(t, {}, { now: () => now })
  t.equal((await startLogin(app, { phone: usNumber(1) })).statusCode, 202)
  const cooldown = await startLogin(app, { phone: usNumber(1) })
  t.equal(cooldown.json().code, 'cooldown', 'the engine refused it…')
  t.equal((await startLogin(app, { phone: usNumber(2) })).statusCode, 202, '…and gave the budget unit back')
  t.equal((await startLogin(app, { phone: usNumber(3) })).statusCode, 202)
  const challengesBefore = await keys('otp:')

  const refused = await startLogin(app, { phone: usNumber(4) })
  t.equal(refused.statusCode, 429)
  t.match(refused.json(), { code: 'rate_limited', status: 429 })
  t.equal(refused.headers['retry-after'], '60', 'until the hour ends')
  t.match(refused.headers, { 'ratelimit-limit': '3', 'ratelimit-remaining': '0', 'ratelimit-reset': '60' })
  t.same(await texted(app), [usNumber(1), usNumber(2), usNumber(3)], 'three SMS, none for the refused number')
  t.same(await keys('otp:'), challengesBefore, 'no challenge stored for it')

  t.equal((await startLogin(app, { phone: FR_MOBILE })).statusCode, 202, 'France has a budget of its own')
  const hour = Math.floor(now.getTime() / 3_600_000)
  t.same((await keys('sms-budget:')).map((key) => key.split('sms-budget:')[1]).sort(), [`{FR}:${hour}`, `{US}:${hour}`], 'counters named by country and hour only')

  now = new Date('2030-05-01T11:00:00.000Z')
  t.equal((await startLogin(app, { phone: usNumber(4) })).statusCode, 202, 'a new hour, a new budget')
})

t.test('draining a country budget takes more than one client IP: each spends only its share', async (t) => {
  const { app, keys } = await smsApp(t, { SMS_COUNTRY_HOURLY_BUDGET: '4', SMS_COUNTRY_IP_SHARE: '0.5' })
  const from = (remoteAddress: string, n: number) =>
    app.inject({ method: 'POST', url: '/v1/auth/otp', remoteAddress, payload: { phone: usNumber(n) } })
  t.same([(await from('198.51.100.1', 11)).statusCode, (await from('198.51.100.1', 12)).statusCode], [202, 202])
  const refused = await from('198.51.100.1', 13)
  t.equal(refused.statusCode, 429, 'one IP spends half the budget at most')
  t.match(refused.json(), { code: 'rate_limited', detail: /country/ })
  t.same([(await from('198.51.100.2', 14)).statusCode, (await from('198.51.100.2', 15)).statusCode], [202, 202], 'another IP has its share')
  t.equal((await from('198.51.100.3', 16)).statusCode, 429, 'and the country budget still caps them all')
  t.same(await texted(app), [11, 12, 14, 15].map(usNumber), 'nothing sent for the refused starts')
  const names = (await keys('sms-budget:')).join(' ')
  t.notMatch(names, /198\.51|100\.1/, 'client keys hold no IP')
})

t.test('decoys count like real codes, so the budget tells nobody which numbers have accounts', async (t) => {
  const { app } = await smsApp(t, { SIGNUP: 'closed' })
  for (const n of [1, 2, 3]) t.equal((await startLogin(app, { phone: usNumber(n) })).statusCode, 202)
  t.same(await vonageRequests(app), [], 'closed sign-up: no SMS to unknown numbers')
  t.equal((await startLogin(app, { phone: usNumber(4) })).json().code, 'rate_limited')
  t.equal((await startLogin(app, { phone: PREMIUM_RATE })).json().code, 'invalid_destination', 'refusals are the same without accounts')
})

t.test('resend: counted against the budget; refused, it withdraws the challenge and sends nothing', async (t) => {
  const { app } = await smsApp(t, { SMS_COUNTRY_HOURLY_BUDGET: '2', OTP_RESEND_COOLDOWN_SECONDS: '0' })
  const { challengeId } = (await startLogin(app, { phone: usNumber(1) })).json()
  // sent before the resend: a code replaced while still queued is dropped, not sent
  t.equal((await texted(app)).length, 1)
  t.equal((await resend(app, challengeId)).statusCode, 202)
  t.equal((await texted(app)).length, 2)
  const refused = await resend(app, challengeId)
  t.equal(refused.statusCode, 429)
  t.equal(refused.json().code, 'rate_limited')
  t.equal((await texted(app)).length, 2, 'nothing sent')
  t.equal((await resend(app, challengeId)).json().code, 'challenge_expired', 'the challenge is gone')
})

t.test('adding a phone to an account goes through the guard too', async (t) => {
  // embedded, so the email login that opens the session reads its code from the dev outbox
  const { app } = await smsApp(t, {}, { stores: 'memory' })
  const { accessToken } = await login(app, { email: newEmail() })
  const add = (phone: string) => app.inject({ method: 'POST', url: '/v1/me/contacts', headers: bearer(accessToken), payload: { phone } })
  for (const phone of [PREMIUM_RATE, OUTSIDE_ALLOW_LIST]) t.equal((await add(phone)).json().code, 'invalid_destination', phone)
  t.same(await vonageRequests(app), [])
  t.equal((await add(usNumber(7))).statusCode, 202)
  t.same(await texted(app), [usNumber(7)])
})

t.test('embedded mode: the same guard on an in-process budget', async (t) => {
  const { app } = await smsApp(t, { SMS_COUNTRY_HOURLY_BUDGET: '1' }, { stores: 'memory' })
  t.equal((await startLogin(app, { phone: PREMIUM_RATE })).json().code, 'invalid_destination')
  t.equal((await startLogin(app, { phone: usNumber(1) })).statusCode, 202)
  t.equal((await startLogin(app, { phone: usNumber(2) })).json().code, 'rate_limited')
  t.same(await texted(app), [usNumber(1)])
})
