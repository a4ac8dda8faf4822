import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { startRedisSet } from '../helpers/redis-sets.ts'
import {
  assertEveryChallengeVerifies, assertOnlyRetriableFailures, assertStillRevoked, revokedSession, startsDuring
} from '../helpers/failover-load.ts'

// A Sentinel set of this file's own (a primary, a replica, three sentinels), so the failover touches no other test.
t.test('a Sentinel failover during sign-ins, at REDIS_WAIT_REPLICAS=1: no 500, no acknowledged challenge lost, no revoked session back', async (t) => {
  const set = await startRedisSet(t, 'sentinel')
  const primary = Number(set.env.SENTINEL_PRIMARY_PORT)
  const replica = Number(set.env.SENTINEL_REPLICA_PORT)
  const sentinel = set.node(Number(set.env.REDIS_SENTINELS?.split(',')[0]?.split(':')[1]))

  // readiness follows the master: the replica answers pings, but is no place to write codes
  const onReplica = await buildTestApp(t, { env: { REDIS_URL: `redis://127.0.0.1:${replica}` } })
  t.equal((await onReplica.inject({ method: 'GET', url: '/health/ready' })).statusCode, 503, 'an app on the replica is not ready')

  const app = await buildTestApp(t, {
    outbox: true,
    limiter: false,
    // the jobs in flight at the failover lose their completion with the old master: they are sent again once
    // their lock lapses, which DELIVERY_LOCK_MS makes quick here
    loadShedding: false,
    env: { REDIS_SENTINELS: set.env.REDIS_SENTINELS ?? '', REDIS_SENTINEL_NAME: 'otp-gate', REDIS_WAIT_REPLICAS: '1', DELIVERY_LOCK_MS: '1000' }
  })
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'ready on the master the sentinels name')
  const revoked = await revokedSession(t, app)

  const { answers, started, recovered } = await startsDuring(app, {
    fault: async () => { t.equal(await sentinel.call('SENTINEL', 'FAILOVER', 'otp-gate'), 'OK', 'failover asked') },
    recovered: async () => {
      const [, port] = await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'otp-gate') as [string, string]
      return Number(port) === replica
    }
  })
  t.ok(recovered, 'the replica became the master')
  t.not(primary, replica)
  assertOnlyRetriableFailures(t, answers)
  t.ok(started.length > 0, `${started.length} challenges acknowledged`)
  await assertEveryChallengeVerifies(t, app, started)
  await assertStillRevoked(t, app, revoked)
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'ready on the new master')
})

// The client that lost its master is reconnecting when the Sentinels announce the new one: the announcement must
// not end it (ioredis's own failover detector did, leaving an instance answering 503 for good).
t.test('a Sentinel primary killed: once the sentinels name the replica, the app is ready on it and takes codes', async (t) => {
  const set = await startRedisSet(t, 'sentinel')
  const primary = Number(set.env.SENTINEL_PRIMARY_PORT)
  const replica = Number(set.env.SENTINEL_REPLICA_PORT)
  const sentinel = set.node(Number(set.env.REDIS_SENTINELS?.split(',')[0]?.split(':')[1]))
  const app = await buildTestApp(t, {
    outbox: true,
    limiter: false,
    loadShedding: false,
    env: { REDIS_SENTINELS: set.env.REDIS_SENTINELS ?? '', REDIS_SENTINEL_NAME: 'otp-gate' }
  })
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200)
  // at 1000 a sentinel sometimes called a just-promoted primary down (it may ping it only a second after the
  // switch) and failed over again (scripts/redis-sets.sh)
  const master = await sentinel.call('SENTINEL', 'MASTER', 'otp-gate') as string[]
  t.ok(Number(master[master.indexOf('down-after-milliseconds') + 1]) >= 2000, 'the sentinels call a primary down after 2 s or more')
  set.kill(primary)
  const named = async () => Number((await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'otp-gate') as [string, string])[1]) === replica
  const ready = async () => (await app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200
  // requests all along, as under load: the client keeps reconnecting while the sentinels decide
  for (let tries = 0; tries < 300 && !await named(); tries++) {
    await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email: `killed-${tries}@example.com` } })
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(await named(), 'the sentinels named the replica')
  for (let tries = 0; tries < 100 && !await ready(); tries++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(await ready(), 'ready on the new master within 5 s of it being named')
  t.equal((await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email: 'after-kill@example.com' } })).statusCode, 202, 'and takes codes')
})
