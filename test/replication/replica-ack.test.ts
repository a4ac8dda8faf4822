import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { createTestRedis, listKeys, uniqueKeyPrefix } from '../helpers/redis.ts'
import { deliveriesSettled, newEmail, startLogin } from '../helpers/login.ts'

// The suite's plain Redis has no replica: a write that must reach one cannot be acknowledged.
t.test('REDIS_WAIT_REPLICAS=1 without a replica: a start answers 503 with Retry-After and leaves no challenge, no job', async (t) => {
  const redis = createTestRedis()
  t.teardown(() => redis.quit())
  const redisKeyPrefix = uniqueKeyPrefix('wait')
  const app = await buildTestApp(t, {
    outbox: true, loadShedding: false, redisKeyPrefix, env: { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '50' }
  })
  const email = newEmail()
  const started = await startLogin(app, { email })
  t.equal(started.statusCode, 503, 'not acknowledged by a replica: 503')
  t.equal(started.json().code, 'service_unavailable')
  t.ok(Number(started.headers['retry-after']) > 0, 'with Retry-After')
  t.notMatch(started.body, /challengeId/, 'no challenge handed out')
  const challenges = (await listKeys(redis, `${redisKeyPrefix}otp:`)).filter(({ key }) => key.includes(':c:'))
  t.same(challenges, [], 'the challenge was withdrawn')
  await deliveriesSettled(app)
  const outbox = await app.inject({ method: 'GET', url: '/v1/dev/outbox', query: { to: email } })
  t.same(outbox.json().messages, [], 'no code went out')
})

t.test('REDIS_WAIT_REPLICAS=0 (the default): the same start answers 202', async (t) => {
  const app = await buildTestApp(t, { outbox: true, loadShedding: false })
  t.equal((await startLogin(app, { email: newEmail() })).statusCode, 202)
})

// Redis serves nothing else on a connection while a WAIT there waits: on the app's one connection, a missing
// replica would hold every read and write behind each acknowledgement (seen under load as reads answering 503)
t.test('a WAIT that waits holds nothing else of the app: a command sent during it is answered before it', async (t) => {
  const app = await buildTestApp(t, {
    outbox: true,
    loadShedding: false,
    redisKeyPrefix: uniqueKeyPrefix('wait-block'),
    // a WAIT of seconds: finding it blocked and pinging must fit in it on a loaded machine too
    env: { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '4000', STORE_TIMEOUT_MS: '5000' }
  })
  const redis = app.redis
  if (redis === null) throw new Error('the app runs on Redis here')
  const observer = createTestRedis()
  t.teardown(() => observer.quit())
  const waiting = async () => /flags=b .* cmd=wait /.test(await observer.client('LIST') as string)
  const start = startLogin(app, { email: newEmail() })
  const deadline = Date.now() + 4000
  while (!await waiting() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  // a WAIT is blocked in Redis (seen from another connection): the app's ping is answered while it still is
  await redis.ping()
  t.ok(await waiting(), 'the ping was answered while the acknowledgement still waited')
  t.equal((await start).statusCode, 503, 'the start itself is refused: no replica')
})
