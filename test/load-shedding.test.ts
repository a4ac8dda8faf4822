import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildTestApp } from './helpers/build-app.ts'

function blockEventLoop (ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) { /* a stuck handler elsewhere in the process */ }
}

t.test('a lagging event loop sheds API requests with 503 while liveness still answers', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', env: { MAX_EVENT_LOOP_DELAY_MS: '50' } })
  await app.ready()
  await sleep(250)
  t.equal((await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).statusCode, 200, 'served while healthy')

  blockEventLoop(600)
  await sleep(5)
  const shed = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email: 'jane@example.org' } })
  const live = await app.inject({ method: 'GET', url: '/health/live' })
  t.equal(shed.statusCode, 503)
  t.equal(shed.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(shed.json().code, 'service_unavailable')
  t.ok(Number(shed.headers['retry-after']) > 0, 'Retry-After')
  t.equal(live.statusCode, 200, '/health/live still answers')

  await sleep(300)
  t.equal((await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).statusCode, 200, 'served again once the loop recovers')
})
