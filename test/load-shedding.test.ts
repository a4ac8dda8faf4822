import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from './helpers/build-app.ts'

function blockEventLoop (ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) { /* a stuck handler elsewhere in the process */ }
}

async function firstAnswer (app: FastifyInstance, status: number, withinMs: number) {
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline) {
    const response = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email: `u${Date.now()}@example.org` } })
    if (response.statusCode === status) return response
    await sleep(50)
  }
  throw new Error(`no ${status} within ${withinMs} ms`)
}

t.test('a stalled event loop sheds API requests with 503 while liveness still answers', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', env: { MAX_EVENT_LOOP_DELAY_MS: '200' } })
  await firstAnswer(app, 202, 3000)

  blockEventLoop(2500)
  const shed = await firstAnswer(app, 503, 2500)
  const live = await app.inject({ method: 'GET', url: '/health/live' })
  t.equal(shed.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(shed.json().code, 'service_unavailable')
  t.ok(Number(shed.headers['retry-after']) > 0, 'Retry-After')
  t.equal(live.statusCode, 200, '/health/live still answers')

  await firstAnswer(app, 202, 3000)
  t.pass('served again once the loop recovers')
})
