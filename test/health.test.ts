import t from 'tap'
import { startDisposableRedis } from './helpers/disposable-server.ts'
import { buildTestApp, testConfig } from './helpers/build-app.ts'

async function pollReady (app: Awaited<ReturnType<typeof buildTestApp>>, status: number, withinMs: number): Promise<number> {
  const started = Date.now()
  while (Date.now() - started < withinMs) {
    const response = await app.inject({ method: 'GET', url: '/health/ready' })
    if (response.statusCode === status) return Date.now() - started
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`/health/ready did not answer ${status} within ${withinMs} ms`)
}

t.test('live is always 200; ready follows Redis down and back up without a restart', async (t) => {
  const redis = await startDisposableRedis()
  t.teardown(() => redis.stop())
  const app = await buildTestApp(t, {}, testConfig(t, { env: { REDIS_URL: redis.url } }))

  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ok', checks: { redis: 'ok', mongodb: 'ok' } })

  await redis.stop()
  const downAfter = await pollReady(app, 503, 2000)
  t.ok(downAfter < 2000, `503 within 2 s (took ${downAfter} ms)`)
  const down = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(down.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(down.json(), { code: 'service_unavailable', detail: /redis/ })
  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200, 'live stays 200')

  await redis.start()
  await pollReady(app, 200, 10_000)
  t.pass('ready again without restarting the API')
})

t.test('the embedded mode is ready with no stores to ping', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory' })
  const response = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok', checks: {} })
})
