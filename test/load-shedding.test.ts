import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from './helpers/build-app.ts'

function blockEventLoop (ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) { /* a stuck handler elsewhere in the process */ }
}

/** Waits until the load shedder's own sampling reaches `state`; tap's timeout bounds the wait. */
async function pressure (app: FastifyInstance, state: boolean): Promise<void> {
  while (app.isUnderPressure() !== state) await sleep(20)
}

const start = (app: FastifyInstance) =>
  app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email: `u${Date.now()}@example.org` } })

t.test('a stalled event loop sheds API requests with 503 while liveness still answers', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', env: { MAX_EVENT_LOOP_DELAY_MS: '200' } })
  t.equal((await start(app)).statusCode, 202, 'served while the loop is free')

  // longer than a full sample of the shedder (1 s), far over MAX_EVENT_LOOP_DELAY_MS
  blockEventLoop(2500)
  await pressure(app, true)
  const shed = await start(app)
  t.equal(shed.statusCode, 503)
  t.equal(shed.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(shed.json().code, 'service_unavailable')
  t.ok(Number(shed.headers['retry-after']) > 0, 'Retry-After')
  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200, '/health/live still answers')

  await pressure(app, false)
  t.equal((await start(app)).statusCode, 202, 'served again once the loop recovers')
})
