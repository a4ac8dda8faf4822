import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { RedisOutbox } from '../../src/delivery/redis-outbox.ts'
import { outboxContract } from './outbox.ts'
import { elapseKeys, listKeys } from '../helpers/redis.ts'

const url = process.env.REDIS_URL
if (!url) throw new Error('REDIS_URL is not set: run `npm test`, or `set -a; . .test-services/dev/env; set +a` first')

const redis = new Redis(url)
const runPrefix = `test:${randomUUID()}:`
let instances = 0

const keysUnder = async (prefix: string) => (await listKeys(redis, prefix)).map(({ key }) => key)

t.teardown(async () => {
  const keys = await keysUnder(runPrefix)
  if (keys.length > 0) await redis.del(...keys)
  await redis.quit()
})

outboxContract(t, async (options) => {
  const keyPrefix = `${runPrefix}${++instances}:outbox:`
  return {
    outbox: new RedisOutbox(redis, { ...options, keyPrefix }),
    elapse: (ms) => elapseKeys(redis, keyPrefix, ms)
  }
})

t.test('one list per destination, with the TTL set on its key', async (t) => {
  const outbox = new RedisOutbox(redis, { keyPrefix: `${runPrefix}ttl:` })
  await outbox.add({ to: 'jane@example.org', channel: 'email', code: '123456', text: 'code 123456', sentAt: new Date().toISOString() })
  const key = outbox.keyFor('jane@example.org')
  t.equal(await redis.type(key), 'list')
  const ttl = await redis.ttl(key)
  t.ok(ttl > 3590 && ttl <= 3600, `TTL about an hour (${ttl} s)`)
  t.same(await keysUnder(`${runPrefix}ttl:`), [key], 'nothing else written')
})

t.test('key names hold a hash of the destination, never the destination', async (t) => {
  const plain = new RedisOutbox(redis, { keyPrefix: 'outbox:' })
  const keyed = new RedisOutbox(redis, { keyPrefix: 'outbox:', keySecret: 'a-secret-of-at-least-32-characters!!' })
  for (const destination of ['jane@example.org', '+12015550123']) {
    const key = plain.keyFor(destination)
    t.match(key, /^outbox:[\w-]{43}$/, 'prefix + base64url SHA-256')
    t.notOk(key.includes(destination) || key.includes('jane') || key.includes('5550123'))
    t.not(keyed.keyFor(destination), key, 'with a secret, an HMAC instead')
  }
  t.equal(plain.keyFor('jane@example.org'), plain.keyFor('jane@example.org'), 'stable')
})

t.test('a failing Redis rejects add', async (t) => {
  const offline = new Redis(url, { lazyConnect: true, enableOfflineQueue: false })
  const outbox = new RedisOutbox(offline, { keyPrefix: `${runPrefix}offline:` })
  await t.rejects(outbox.add({ to: 'a@example.org', channel: 'email', code: '1', text: '1', sentAt: new Date().toISOString() }))
  offline.disconnect()
})
