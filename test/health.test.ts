import t from 'tap'
import { startDisposableRedis } from './helpers/disposable-server.ts'
import { buildTestApp, testConfig } from './helpers/build-app.ts'

t.test('live is always 200; ready follows Redis down and back up without a restart', async (t) => {
  const redis = await startDisposableRedis()
  t.teardown(() => redis.dispose())
  const app = await buildTestApp(t, {}, testConfig(t, { loadShedding: false, env: { REDIS_URL: redis.url } }))
  const ready = () => app.inject({ method: 'GET', url: '/health/ready' })
  // not events.once: the client emits 'error' for each failed reconnection, which would reject it
  const next = (event: 'close' | 'ready') => new Promise((resolve) => app.redis!.once(event, resolve))

  const up = await ready()
  t.equal(up.statusCode, 200)
  t.same(up.json(), { status: 'ok', checks: { redis: 'ok', mongodb: 'ok' } })

  // the first request after the client lost its connection answers 503: nothing cached, nothing queued
  const lost = next('close')
  await redis.stop()
  await lost
  const down = await ready()
  t.equal(down.statusCode, 503)
  t.equal(down.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(down.json(), { code: 'service_unavailable', detail: /redis/ })
  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200, 'live stays 200')

  // and the first one after it reconnected answers 200, without restarting the API
  const back = next('ready')
  await redis.start()
  await back
  const again = await ready()
  t.equal(again.statusCode, 200, 'ready again')
  t.same(again.json(), { status: 'ok', checks: { redis: 'ok', mongodb: 'ok' } })
})

t.test('ready answers 503, not never, when Redis stops answering but keeps the connection', async (t) => {
  const redis = await startDisposableRedis()
  t.teardown(() => redis.dispose())
  // a second for each store to answer: a loaded machine's MongoDB and Redis take more than a few hundred ms at times
  const app = await buildTestApp(t, {}, testConfig(t, { loadShedding: false, env: { REDIS_URL: redis.url, STORE_TIMEOUT_MS: '1000' } }))
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200)
  redis.pause()
  t.teardown(() => redis.resume())
  const hung = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(hung.statusCode, 503, 'a ping that never returns counts as down')
  t.match(hung.json(), { code: 'service_unavailable', detail: /redis/ })
})

t.test('the embedded mode is ready with no stores to ping', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const response = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok', checks: {} })
})
