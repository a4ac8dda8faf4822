import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, testConfig } from '../helpers/build-app.ts'
import { codeFromOutbox, login, newEmail, newPhone, startLogin } from '../helpers/login.ts'
import type { AddressInfo } from 'node:net'
import { exposeMetrics } from '../../plugins/listen.ts'

interface Sample { name: string, labels: Record<string, string>, value: number }

/** The samples of a Prometheus text exposition (no HELP/TYPE lines). */
function samples (text: string): Sample[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) throw new Error(`not a sample: ${line}`)
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key!, value!]))
    return { name: match[1]!, labels, value: Number(match[3]) }
  })
}

const find = (all: Sample[], name: string, labels: Record<string, string>) =>
  all.find((sample) =>
    sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))

const refresh = (app: FastifyInstance, refreshToken: string) => app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken } })
const verify = (app: FastifyInstance, challengeId: string, code: string) => app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId, code } })

t.test('GET /metrics, on METRICS_PORT only, after logins: every metric with its labels, and no identifier', async (t) => {
  const options = {
    loadShedding: false,
    outbox: true,
    env: {
      METRICS_PORT: '0',
      OTP_MAX_ATTEMPTS: '2',
      REFRESH_REUSE_GRACE_SECONDS: '0',
      SMS_ALLOWED_COUNTRIES: 'US'
    }
  }
  const config = testConfig(t, options)
  const app = await buildTestApp(t, options, config)
  const server = await exposeMetrics(app, config)
  t.ok(server, 'a metrics listener')
  t.teardown(() => server?.close())
  const address = server!.server.address() as AddressInfo
  const scrape = async () => {
    const response = await fetch(`http://127.0.0.1:${address.port}/metrics`)
    t.equal(response.status, 200)
    t.match(response.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
    return response.text()
  }

  // what must never show up: identifiers, codes, tokens, ids, the client's IP
  const secrets: string[] = ['127.0.0.1']
  const codes: string[] = []

  const email = newEmail('metrics')
  const phone = newPhone()
  secrets.push(email, phone, phone.slice(1))
  const signedIn = await login(app, { email })
  const texted = await login(app, { phone })
  secrets.push(
    signedIn.accessToken, signedIn.refreshToken, signedIn.user.id,
    texted.accessToken, texted.refreshToken, texted.user.id
  )

  // a wrong code, then a second one (OTP_MAX_ATTEMPTS=2), then the right one for the challenge that is gone
  const wrongEmail = newEmail('wrong')
  secrets.push(wrongEmail)
  const started = await startLogin(app, { email: wrongEmail })
  const rightCode = await codeFromOutbox(app, wrongEmail)
  codes.push(rightCode)
  const wrongCode = rightCode === '000000' ? '111111' : '000000'
  t.equal((await verify(app, started.json().challengeId, wrongCode)).json().code, 'invalid_code')
  t.equal((await verify(app, started.json().challengeId, wrongCode)).json().code, 'too_many_attempts')
  t.equal((await verify(app, started.json().challengeId, rightCode)).json().code, 'challenge_expired', 'gone after too many attempts')
  secrets.push(started.json().challengeId)

  // refresh: rotated, then the old token again (reuse), then the ended session's token (invalid)
  const rotated = await refresh(app, signedIn.refreshToken)
  t.equal(rotated.statusCode, 200)
  t.equal((await refresh(app, signedIn.refreshToken)).json().code, 'token_reused')
  t.equal((await refresh(app, rotated.json().refreshToken)).statusCode, 401)
  secrets.push(rotated.json().refreshToken, rotated.json().accessToken)

  // a cooldown (the same address again at once) and a country the SMS guard refuses
  t.equal((await startLogin(app, { email })).statusCode, 429)
  t.equal((await startLogin(app, { phone: '+33612345678' })).statusCode, 422)
  secrets.push('+33612345678', '33612345678')
  t.equal((await app.inject({ method: 'GET', url: '/no/such/path/42' })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404, 'never on the API port')

  // Redis goes away: a 503, counted as a store error
  app.redis!.disconnect()
  t.equal((await startLogin(app, { email: newEmail() })).statusCode, 503)

  const text = await scrape()
  const all = samples(text)
  const expect = (
    name: string, labels: Record<string, string>, check: (value: number) => boolean = (value) => value >= 1
  ) => {
    const sample = find(all, name, labels)
    t.ok(sample && check(sample.value), `${name}${JSON.stringify(labels)} = ${sample?.value}`)
  }
  expect('http_request_duration_seconds_count', { method: 'POST', route: '/v1/auth/otp/verify', status_code: '200' })
  expect('http_request_duration_seconds_bucket', { method: 'POST', route: '/v1/auth/otp', status_code: '202', le: '+Inf' })
  expect('http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' })
  expect('otp_challenges_started_total', { channel: 'email', country: 'email' }, (value) => value === 2)
  expect('otp_challenges_started_total', { channel: 'sms', country: 'US' }, (value) => value === 1)
  expect('otp_verifications_total', { channel: 'email', outcome: 'success' }, (value) => value === 1)
  expect('otp_verifications_total', { channel: 'sms', outcome: 'success' }, (value) => value === 1)
  expect('otp_verifications_total', { channel: 'email', outcome: 'invalid_code' }, (value) => value === 1)
  expect('otp_verifications_total', { channel: 'email', outcome: 'too_many_attempts' }, (value) => value === 1)
  expect('otp_verifications_total', { outcome: 'expired' }, (value) => value === 1)
  expect('otp_deliveries_total', { channel: 'email', provider: 'outbox', outcome: 'sent' }, (value) => value === 2)
  expect('otp_deliveries_total', { channel: 'sms', provider: 'outbox', outcome: 'sent' }, (value) => value === 1)
  expect('otp_conversion_ratio', { channel: 'email', country: 'email' }, (value) => value === 0.5)
  expect('otp_conversion_ratio', { channel: 'sms', country: 'US' }, (value) => value === 1)
  expect('sessions_refreshed_total', { outcome: 'rotated' }, (value) => value === 1)
  expect('sessions_refreshed_total', { outcome: 'reused' }, (value) => value === 1)
  expect('sessions_refreshed_total', { outcome: 'invalid' }, (value) => value === 1)
  expect('auth_rate_limited_total', { route: '/v1/auth/otp' }, (value) => value === 1)
  expect('store_errors_total', { store: 'redis', kind: 'unavailable' })
  expect('sms_guard_blocks_total', { reason: 'country_not_allowed' }, (value) => value === 1)
  for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds_count', 'process_cpu_seconds_total']) {
    t.ok(all.some((sample) => sample.name === name), `Node default ${name}`)
  }

  for (const secret of secrets) t.notOk(text.includes(secret), `no ${secret.slice(0, 12)}… in the output`)
  const labelValues = all.flatMap((sample) => Object.values(sample.labels))
  for (const code of codes) t.notOk(labelValues.some((value) => value.includes(code)), 'no code in a label')
  t.notOk(labelValues.some((value) => /@|\+\d|\d{7,}/.test(value)), 'no label looks like an address or a number')
})

t.test('without METRICS_PORT nothing is counted and nothing listens', async (t) => {
  const config = testConfig(t, { loadShedding: false, outbox: true })
  const app = await buildTestApp(t, {}, config)
  t.equal(app.prometheus, null)
  t.equal(await exposeMetrics(app, config), null)
  await login(app, { email: newEmail() })
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404)
})

t.test('the metrics listener binds METRICS_HOST (127.0.0.1 by default), never HOST, and asks for METRICS_TOKEN when one is set', async (t) => {
  const listen = async (env: Record<string, string>) => {
    const options = { loadShedding: false, env: { METRICS_PORT: '0', HOST: '0.0.0.0', ...env } }
    const config = testConfig(t, options)
    const app = await buildTestApp(t, options, config)
    const server = await exposeMetrics(app, config)
    t.teardown(() => server?.close())
    return server!.server.address() as AddressInfo
  }
  t.equal((await listen({})).address, '127.0.0.1', 'loopback only, though the API listens on every interface')

  const token = 'metrics-token-0123456789abcdef0123456789'
  const { port } = await listen({ METRICS_TOKEN: token })
  const scrape = (authorization?: string) => fetch(`http://127.0.0.1:${port}/metrics`, { headers: authorization === undefined ? {} : { authorization } })
  const refused = await scrape()
  t.equal(refused.status, 401, 'no token')
  t.equal(refused.headers.get('www-authenticate'), 'Bearer')
  t.equal((await scrape(`Bearer ${token}x`)).status, 401, 'a wrong token')
  t.equal((await scrape(token)).status, 401, 'a token without its scheme')
  const scraped = await scrape(`Bearer ${token}`)
  t.equal(scraped.status, 200, 'the token')
  t.match(await scraped.text(), /^nodejs_heap_size_used_bytes /m)
})
