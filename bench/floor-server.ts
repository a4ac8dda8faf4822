// The floor the endpoints are measured against: Fastify with the app's server options, routes that make exactly
// the storage round trips named in their path and nothing else. Same env as the app (PORT, REDIS_URL, MONGODB_URL).
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { randomBytes, randomInt } from 'node:crypto'
import { Types } from 'mongoose'
import closeWithGrace from 'close-with-grace'
import { Redis } from 'ioredis'
import { loadConfig } from '../src/config.ts'
import { serverOptions } from '../src/app.ts'
import { redisOptions } from '../plugins/redis.ts'
import { connectMongo } from '../plugins/mongo.ts'

interface SessionLike { _id: Types.ObjectId, userId: string, tokenHash: string, amr: string[], createdAt: Date, lastUsedAt: Date, expiresAt: Date, revokedAt: null }

// the production checks are about the app's secrets and providers, none of which a floor has
const config = loadConfig({ ...process.env, NODE_ENV: 'development' })
if (config.REDIS_URL === undefined || config.MONGODB_URL === undefined) throw new Error('floor-server needs REDIS_URL and MONGODB_URL')

const redis = new Redis(config.REDIS_URL, redisOptions(config))
await redis.connect()
// trivial on purpose: the cost measured is the EVALSHA round trip, not the script
redis.defineCommand('floorTouch', { numberOfKeys: 1, lua: "return redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000)" })
const touch = (id: string) => (redis as unknown as { floorTouch: (key: string, value: string) => Promise<unknown> }).floorTouch(`bench:floor:{${id}}`, id)

// Reads go to the app's own collections (same database): on a server without index point reads, like FerretDB
// on SQLite, what a read costs depends on the collection it scans, so only the same collection makes a floor.
const mongo = await connectMongo(config.MONGODB_URL, config.STORE_TIMEOUT_MS)
const db = mongo.getClient().db(mongo.name)
const sessions = db.collection<SessionLike>('sessions')
const identities = db.collection<{ _id: string }>('identities')
const inserts = db.collection<SessionLike>('bench_floor')
await inserts.drop().catch(() => {})
let sessionIds: Types.ObjectId[] = []

const sessionLike = (): SessionLike => ({
  _id: new Types.ObjectId(),
  userId: randomBytes(12).toString('hex'),
  tokenHash: randomBytes(32).toString('hex'),
  amr: ['otp'],
  createdAt: new Date(),
  lastUsedAt: new Date(),
  expiresAt: new Date(Date.now() + 86_400_000),
  revokedAt: null
})

// the app's own server options, so the floor differs from it only in what its routes do
const app = Fastify(serverOptions(config)).withTypeProvider<TypeBoxTypeProvider>()

const body = Type.Object({ id: Type.String({ minLength: 8, maxLength: 64 }) }, { additionalProperties: false })
const response = { 200: Type.Object({ ok: Type.Boolean(), id: Type.String() }) }

// like the app's /health/ready: both stores answer, so a backlog left by the last run shows here
app.get('/health', { schema: { response } }, async () => {
  await Promise.all([redis.ping(), db.command({ ping: 1 })])
  return { ok: true, id: 'health' }
})
// called before a run: the sessions the app has by now are the ones a read picks from
app.post('/floor/sample', { schema: { response } }, async () => {
  sessionIds = (await sessions.find({}, { projection: { _id: 1 } }).limit(1000).toArray()).map((session) => session._id)
  return { ok: sessionIds.length > 0, id: String(sessionIds.length) }
})
app.post('/floor/none', { schema: { body, response } }, async (request) => ({ ok: true, id: request.body.id }))
app.post('/floor/redis', { schema: { body, response } }, async (request) => {
  await touch(request.body.id)
  return { ok: true, id: request.body.id }
})
app.post('/floor/redis-mongo', { schema: { body, response } }, async (request) => {
  await touch(request.body.id)
  await inserts.insertOne(sessionLike())
  return { ok: true, id: request.body.id }
})
// start's round trips for a new address: an identity that is not there, then the script
app.post('/floor/mongo-read-redis', { schema: { body, response } }, async (request) => {
  const found = await identities.findOne({ _id: `email:${request.body.id}@loadtest.example` })
  await touch(request.body.id)
  return { ok: found === null, id: request.body.id }
})
app.get('/floor/mongo-read', { schema: { response } }, async () => {
  const found = await sessions.findOne({ _id: sessionIds[randomInt(Math.max(sessionIds.length, 1))] ?? new Types.ObjectId() })
  return { ok: found !== null, id: found?._id.toHexString() ?? '' }
})

app.addHook('onClose', async () => {
  await inserts.drop().catch(() => {})
  await mongo.close()
  await redis.quit()
})
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async () => { await app.close() })
await app.listen({ host: config.HOST, port: config.PORT })
