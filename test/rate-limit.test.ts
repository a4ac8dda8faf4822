import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildTestApp, testConfig } from './helpers/build-app.ts'
import { startDisposableRedis } from './helpers/disposable-server.ts'
import { login, newEmail } from './helpers/login.ts'
import { createTestRedis, listKeys, uniqueKeyPrefix } from './helpers/redis.ts'

const redis = createTestRedis()
t.teardown(() => redis.quit())

const start = (
  app: FastifyInstance, remoteAddress: string, options: { email?: string, forwardedFor?: string } = {}
) => app.inject({
  method: 'POST',
  url: '/v1/auth/otp',
  remoteAddress,
  headers: options.forwardedFor === undefined ? {} : { 'x-forwarded-for': options.forwardedFor },
  payload: { email: options.email ?? newEmail() }
})

const statuses = async (requests: Array<() => Promise<LightMyRequestResponse>>) => {
  const codes: number[] = []
  for (const request of requests) codes.push((await request()).statusCode)
  return codes
}
const times = <T>(n: number, make: (index: number) => T): T[] => Array.from({ length: n }, (_, index) => make(index))

t.test('two instances on one Redis share a client\'s budget: 5 on A and 5 on B, then 429 on both', async (t) => {
  const redisKeyPrefix = uniqueKeyPrefix('rl-shared')
  const a = await buildTestApp(t, { loadShedding: false, outbox: true, redisKeyPrefix })
  const b = await buildTestApp(t, { loadShedding: false, outbox: true, redisKeyPrefix })
  const client = '203.0.113.7'
  for (let n = 0; n < 5; n++) {
    for (const [name, app, remaining] of [['A', a, 9 - 2 * n], ['B', b, 8 - 2 * n]] as const) {
      const response = await start(app, client)
      t.equal(response.statusCode, 202, `request ${2 * n + (name === 'A' ? 1 : 2)} on ${name}`)
      t.equal(response.headers['ratelimit-remaining'], String(remaining), 'counted together')
    }
  }
  for (const [name, app] of [['A', a], ['B', b]] as const) {
    const refused = await start(app, client)
    t.equal(refused.statusCode, 429, `the 11th and 12th are refused, on ${name}`)
    t.match(refused.json(), { code: 'rate_limited', status: 429, type: 'https://otp-gate.dev/problems/rate_limited' })
    const retryAfter = Number(refused.headers['retry-after'])
    t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After within the minute (${retryAfter})`)
    t.match(refused.headers, { 'ratelimit-limit': '10', 'ratelimit-remaining': '0', 'ratelimit-reset': String(retryAfter) })
  }
  t.equal((await start(b, '203.0.113.8')).statusCode, 202, 'another client has its own budget')
  const keys = await listKeys(redis, `${redisKeyPrefix}rl:`)
  t.equal(keys.length, 2, 'one Redis counter per client and route')
  t.ok(keys.every(({ pttl }) => pttl > 0 && pttl <= 60_000), 'each lapses within the minute')
})

t.test('embedded mode: the budget lives in the process', async (t) => {
  const options = { stores: 'memory', loadShedding: false, env: { RATE_LIMIT_START_PER_MINUTE: '3' } } as const
  const app = await buildTestApp(t, options)
  const other = await buildTestApp(t, options)
  t.same(await statuses(times(4, () => () => start(app, '203.0.113.9'))), [202, 202, 202, 429])
  t.equal((await start(other, '203.0.113.9')).statusCode, 202, 'another process keeps its own count')
})

t.test('TRUST_PROXY off (the default): a forged X-Forwarded-For does not buy a new budget', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { RATE_LIMIT_START_PER_MINUTE: '3' } })
  const forged = times(4, (n) => () => start(app, '203.0.113.10', { forwardedFor: `198.51.100.${n + 1}` }))
  t.same(await statuses(forged), [202, 202, 202, 429])
})

t.test('TRUST_PROXY as a hop count: each forwarded client has its own budget, and extra hops in front do not help', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { RATE_LIMIT_START_PER_MINUTE: '3', TRUST_PROXY: '1' } })
  const proxy = '10.0.0.1'
  t.same(await statuses(times(3, () => () => start(app, proxy, { forwardedFor: '198.51.100.1' }))), [202, 202, 202])
  t.equal((await start(app, proxy, { forwardedFor: '198.51.100.1' })).statusCode, 429, 'client 1 spent its budget')
  t.equal((await start(app, proxy, { forwardedFor: '198.51.100.2' })).statusCode, 202, 'client 2 has its own')
  t.equal((await start(app, proxy, { forwardedFor: '192.0.2.99, 198.51.100.1' })).statusCode, 429, 'a forged entry before the one our proxy added changes nothing')
})

t.test('TRUST_PROXY as a CIDR list: forwarded clients of a trusted proxy are told apart, others cannot forge', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { RATE_LIMIT_START_PER_MINUTE: '3', TRUST_PROXY: '10.0.0.0/8, 172.16.0.0/12' } })
  t.same(await statuses(times(4, () => () => start(app, '10.1.2.3', { forwardedFor: '198.51.100.1' }))), [202, 202, 202, 429])
  t.equal((await start(app, '172.16.0.5', { forwardedFor: '198.51.100.2' })).statusCode, 202, 'another client, through another trusted proxy')
  const direct = times(4, (n) => () => start(app, '203.0.113.11', { forwardedFor: `198.51.100.${10 + n}` }))
  t.same(await statuses(direct), [202, 202, 202, 429], 'an untrusted peer is itself the client')
})

t.test('an IPv6 client is its /64; an IPv4-mapped address is its IPv4 one', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { RATE_LIMIT_START_PER_MINUTE: '3' } })
  const sameSubnet = ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff::3', '2001:db8:1:2::4']
  t.same(await statuses(sameSubnet.map((address) => () => start(app, address))), [202, 202, 202, 429], 'rotating inside one /64 does not help')
  t.equal((await start(app, '2001:db8:1:3::1')).statusCode, 202, 'the next /64 is another client')
  t.same(await statuses([() => start(app, '203.0.113.12'), () => start(app, '::ffff:203.0.113.12'), () => start(app, '203.0.113.12')]), [202, 202, 202])
  t.equal((await start(app, '::ffff:203.0.113.12')).statusCode, 429, 'both spellings share one budget')
})

t.test('per-destination refusals answer like per-IP ones: 429, Retry-After and RateLimit fields of their own limit', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { OTP_RESEND_COOLDOWN_SECONDS: '30' } })
  const email = newEmail()
  const first = await start(app, '203.0.113.13', { email })
  t.match(first.headers, { 'ratelimit-limit': '10', 'ratelimit-remaining': '9' }, 'the per-IP budget on a success')
  const cooldown = await start(app, '203.0.113.13', { email })
  t.equal(cooldown.statusCode, 429)
  t.match(cooldown.json(), { code: 'cooldown', status: 429 })
  const retryAfter = Number(cooldown.headers['retry-after'])
  t.ok(retryAfter >= 29 && retryAfter <= 30, `Retry-After is the cooldown left (${retryAfter})`)
  t.match(cooldown.headers, { 'ratelimit-limit': '1', 'ratelimit-remaining': '0', 'ratelimit-reset': String(retryAfter) }, 'one code per cooldown, not the per-IP budget')
})

t.test('the send quota carries its own limit; a throttled destination says how long to wait', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { OTP_RESEND_COOLDOWN_SECONDS: '0', OTP_SEND_QUOTA: '2', OTP_THROTTLE_AFTER_FAILURES: '1' } })
  const email = newEmail()
  const challenges = [await start(app, '203.0.113.14', { email }), await start(app, '203.0.113.14', { email })]
  t.same(challenges.map((response) => response.statusCode), [202, 202])
  const quota = await start(app, '203.0.113.14', { email })
  t.equal(quota.json().code, 'rate_limited')
  t.match(quota.headers, { 'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': quota.headers['retry-after'] })

  const challengeId = challenges[1]!.json().challengeId
  const verify = () => app.inject({ method: 'POST', url: '/v1/auth/otp/verify', remoteAddress: '203.0.113.14', payload: { challengeId, code: '000000' } })
  t.same([(await verify()).json().code, (await verify()).json().code], ['invalid_code', 'invalid_code'])
  const throttled = await verify()
  t.equal(throttled.statusCode, 429)
  t.match(throttled.json(), { code: 'rate_limited', detail: /wrong codes/ }, 'the destination waits')
  t.equal(throttled.headers['retry-after'], '1', 'the first throttle step: 1 s')
})

t.test('RATE_LIMIT_ALLOWLIST lifts the per-IP budget, not the per-destination limits', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { RATE_LIMIT_ALLOWLIST: '198.51.100.0/24, 2001:db8:ab::7', RATE_LIMIT_START_PER_MINUTE: '3' } })
  for (const address of ['198.51.100.7', '::ffff:198.51.100.7', '2001:db8:ab::7']) {
    const responses = await Promise.all(times(5, () => start(app, address)))
    t.same(responses.map((response) => response.statusCode), times(5, () => 202), `${address}: 5 starts past a budget of 3`)
    t.notOk(responses.some((response) => 'ratelimit-limit' in response.headers), 'and no per-IP budget shown')
  }
  t.same(await statuses(times(4, () => () => start(app, '198.51.101.7'))), [202, 202, 202, 429], 'outside the list, limited')

  const email = newEmail()
  t.equal((await start(app, '198.51.100.7', { email })).statusCode, 202)
  const cooldown = await start(app, '198.51.100.7', { email })
  t.equal(cooldown.statusCode, 429)
  t.equal(cooldown.json().code, 'cooldown', 'the cooldown still applies')
  t.ok(Number(cooldown.headers['retry-after']) > 0)
  t.match(cooldown.headers, { 'ratelimit-limit': '1', 'ratelimit-remaining': '0', 'ratelimit-reset': cooldown.headers['retry-after'] })
})

t.test('an allow-list entry that is not an address or CIDR stops the start', async (t) => {
  for (const entry of ['localhost', '10.0.0.0/33', '10.0.0.1/8/8', '10.0.0.0/x']) {
    await t.rejects(buildTestApp(t, { stores: 'memory', env: { RATE_LIMIT_ALLOWLIST: entry } }), { message: `RATE_LIMIT_ALLOWLIST: "${entry}" is not an IP address or CIDR` })
  }
})

t.test('/health/* is never limited', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { RATE_LIMIT_DEFAULT_PER_MINUTE: '5' } })
  const responses = await Promise.all(times(350, () => app.inject({ method: 'GET', url: '/health/live', remoteAddress: '203.0.113.15' })))
  t.ok(responses.every((response) => response.statusCode === 200), '350 liveness probes from one address: all 200')
  t.notOk(responses.some((response) => 'ratelimit-limit' in response.headers), 'no budget counted')
  const ready = await Promise.all(times(20, () => app.inject({ method: 'GET', url: '/health/ready', remoteAddress: '203.0.113.15' })))
  t.ok(ready.every((response) => response.statusCode === 200), 'readiness too')
})

t.test('the limiter fails closed: its Redis gone, a limited route answers 503 even when it needs no Redis itself', async (t) => {
  const disposable = await startDisposableRedis()
  t.teardown(() => disposable.dispose())
  // loopback is allow-listed, so requests from it never ask the limiter: the control
  const app = await buildTestApp(t, {}, testConfig(t, { loadShedding: false, outbox: true, env: { REDIS_URL: disposable.url, RATE_LIMIT_ALLOWLIST: '127.0.0.1' } }))
  const { refreshToken } = await login(app, { email: newEmail() })
  // a refresh needs MongoDB only, apart from the limiter
  const refresh = (remoteAddress: string) => app.inject({ method: 'POST', url: '/v1/auth/token/refresh', remoteAddress, payload: { refreshToken } })

  await disposable.stop()
  const refused = await refresh('203.0.113.16')
  t.equal(refused.statusCode, 503, 'not 2xx')
  t.match(refused.json(), { code: 'service_unavailable' })
  t.ok(Number(refused.headers['retry-after']) > 0, 'with Retry-After')
  t.equal((await refresh('127.0.0.1')).statusCode, 200, 'skipping the limiter, the same request succeeds: the 503 is the limiter\'s')
})
