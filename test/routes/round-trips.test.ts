import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer } from '../helpers/login.ts'
import { watchRoundTrips, type RoundTrips } from '../helpers/round-trips.ts'

// The round trips each request makes, as the flows in src/auth/ document them. Test identifiers have a fixed
// code and are not delivered, so the dev outbox adds no Redis write; the per-IP limiter is on (no allow-list).
const CODE = '246810'
// the worker's own Redis traffic (taking and sending queued codes) is not a request's: no worker in this app
const env = {
  DELIVERY_WORKER: 'false',
  RATE_LIMIT_ALLOWLIST: '',
  RATE_LIMIT_START_PER_MINUTE: '1000',
  RATE_LIMIT_VERIFY_PER_MINUTE: '1000',
  TEST_IDENTIFIERS: `*@trips.example=${CODE},+1201555*=${CODE}`,
  // one address signs in again and again here
  TEST_IDENTIFIERS_SKIP_QUOTA: 'true'
}
const email = () => `trip-${randomBytes(5).toString('hex')}@trips.example`
const phone = () => `+1201555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`

interface Budget { redis: number, mongo: number, mongoLevels: number }

/** per request: Redis commands, MongoDB commands, MongoDB sequential levels (README.md, "Round trips per request") */
const BUDGETS: Record<string, Budget> = {
  'start, email, unknown user': { redis: 2, mongo: 1, mongoLevels: 1 },
  'start, email, known user': { redis: 2, mongo: 1, mongoLevels: 1 },
  'start, email, code queued': { redis: 3, mongo: 1, mongoLevels: 1 },
  // the SMS budget and the conversion guard's check are sent side by side: one more command, no more levels
  'start, SMS': { redis: 4, mongo: 1, mongoLevels: 1 },
  'verify, first sign-up': { redis: 2, mongo: 2, mongoLevels: 2 },
  'verify, returning user': { redis: 2, mongo: 2, mongoLevels: 2 },
  // the compare-and-swap names the user; its status and appMetadata are read after it
  refresh: { redis: 1, mongo: 2, mongoLevels: 2 },
  // the user by _id is read beside the revocation MGET, so a status written straight to the database counts
  'authenticating a request': { redis: 2, mongo: 1, mongoLevels: 1 },
  // the route uses the user that authenticating read: no second read
  'GET /v1/me': { redis: 2, mongo: 1, mongoLevels: 1 },
  // the user, then the sessions: the list waits for the authenticating read
  'GET /v1/me/sessions': { redis: 2, mongo: 2, mongoLevels: 2 }
}

const start = (app: FastifyInstance, body: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/auth/otp', payload: body })
const verify = (app: FastifyInstance, challengeId: string) => app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId, code: CODE } })

// the app as production builds it: the MongoDB adapters are the only ones, the commands are the same on any server
t.test('every request stays within its round-trip budget', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env, monitorMongoCommands: true })
  const trips = watchRoundTrips(app)
  t.teardown(() => trips.stop())
  const within = (t: Test, row: string, measured: RoundTrips) => {
    const budget = BUDGETS[row]!
    t.equal(measured.redis.length, budget.redis, `${row}: Redis ${measured.redis.join(', ')}`)
    t.equal(measured.mongo.length, budget.mongo, `${row}: MongoDB ${measured.mongo.join(', ')}`)
    t.equal(measured.mongoLevels, budget.mongoLevels, `${row}: MongoDB sequential levels`)
  }

  const address = email()
  let response = await start(app, { email: address })
  const signUp = await trips.measure(async () => { response = await verify(app, response.json().challengeId) })
  t.equal(response.statusCode, 200)
  within(t, 'verify, first sign-up', signUp)

  within(t, 'start, email, unknown user', await trips.measure(async () => { t.equal((await start(app, { email: email() })).statusCode, 202) }))
  let known = response
  within(t, 'start, email, known user', await trips.measure(async () => { known = await start(app, { email: address }) }))
  t.equal(known.statusCode, 202)
  // an address that is not a test identifier: its code is enqueued for the worker (one more Redis trip)
  within(t, 'start, email, code queued', await trips.measure(async () => {
    t.equal((await start(app, { email: `trip-${randomBytes(5).toString('hex')}@example.org` })).statusCode, 202)
  }))
  within(t, 'start, SMS', await trips.measure(async () => { t.equal((await start(app, { phone: phone() })).statusCode, 202) }))

  let login = await verify(app, known.json().challengeId)
  const returning = await trips.measure(async () => {
    login = await verify(app, (await start(app, { email: address })).json().challengeId)
  })
  t.equal(login.statusCode, 200)
  // that measure held a start too: take its row away
  const startRow = BUDGETS['start, email, known user']!
  within(t, 'verify, returning user', {
    redis: returning.redis.slice(startRow.redis),
    mongo: returning.mongo.slice(startRow.mongo),
    mongoLevels: returning.mongoLevels - startRow.mongoLevels
  })

  let refreshed = login
  within(t, 'refresh', await trips.measure(async () => {
    refreshed = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: login.json().refreshToken } })
  }))
  t.equal(refreshed.statusCode, 200)

  const { accessToken } = refreshed.json()
  within(t, 'GET /v1/me', await trips.measure(async () => {
    t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })).statusCode, 200)
  }))
  within(t, 'GET /v1/me/sessions', await trips.measure(async () => {
    t.equal((await app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(accessToken) })).statusCode, 200)
  }))
  t.equal((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(accessToken) })).statusCode, 204)
  // a token whose session ended: turned away by the revocation state (the user read beside it), before any handler work
  within(t, 'authenticating a request', await trips.measure(async () => {
    t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })).statusCode, 401)
  }))
})
