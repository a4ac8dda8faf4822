// The floors the endpoints are measured against: Fastify with the app's server options, one route per endpoint
// making exactly the storage round trips of that endpoint's budget (src/auth/), in the same order, and nothing
// else: no validation beyond a schema, no crypto, no JWT. Same env as the app (PORT, REDIS_URL, MONGODB_URL).
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Types } from 'mongoose'
import closeWithGrace from 'close-with-grace'
import { Redis } from 'ioredis'
import { loadConfig } from '../src/config.ts'
import { serverOptions } from '../src/app.ts'
import { redisOptions } from '../plugins/redis.ts'
import { connectMongo } from '../plugins/mongo.ts'

interface SessionLike {
  _id: Types.ObjectId
  userId: string
  tokenHash: string
  amr: string[]
  createdAt: Date
  lastUsedAt: Date
  expiresAt: Date
  revokedAt: null
}
interface UserLike {
  _id: Types.ObjectId, email?: string, status: string, lastLoginAt: Date | null, createdAt: Date, updatedAt: Date
}

// the production checks are about the app's secrets and providers, none of which a floor has
const config = loadConfig({ ...process.env, NODE_ENV: 'development' })
if (config.REDIS_URL === undefined || config.MONGODB_URL === undefined) throw new Error('floor-server needs REDIS_URL and MONGODB_URL')

const redis = new Redis(config.REDIS_URL, redisOptions(config))
await redis.connect()
// trivial on purpose: the cost measured is the EVALSHA round trip, not the script
redis.defineCommand('floorTouch', { numberOfKeys: 1, lua: "return redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000)" })
const touch = (id: string) => (redis as unknown as { floorTouch: (key: string, value: string) => Promise<unknown> }).floorTouch(`bench:floor:{${id}}`, id)
// the revocation check: one MGET of two keys on one slot
const revocationRead = (id: string) => redis.mget(`bench:floor:{${id}}:session`, `bench:floor:{${id}}:user`)

// The app's own collections (same database, same indexes): what a read or write costs depends on them.
const mongo = await connectMongo(config.MONGODB_URL, config.STORE_TIMEOUT_MS)
const db = mongo.getClient().db(mongo.name)
const sessions = db.collection<SessionLike>('sessions')
const users = db.collection<UserLike>('users')
let sessionIds: Types.ObjectId[] = []
let userIds: Types.ObjectId[] = []
const sampled = <T>(ids: T[]) => ids[Math.floor(Math.random() * ids.length)]
// unique made-up ids without crypto (the app draws its own from a pool): this process's start time, then a count
const started = Date.now().toString(16)
let made = 0
const uniqueHex = (length: number) => started + (++made).toString(16).padStart(length - started.length, '0')

const sessionLike = (): SessionLike => ({
  _id: new Types.ObjectId(),
  userId: uniqueHex(24),
  tokenHash: uniqueHex(64),
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
// called before a run: the sessions and users the app has by now are the ones a floor picks from
app.post('/floor/sample', { schema: { response } }, async () => {
  sessionIds = (await sessions.find({}, { projection: { _id: 1 } }).limit(1000).toArray()).map((session) => session._id)
  userIds = (await users.find({}, { projection: { _id: 1 } }).limit(1000).toArray()).map((user) => user._id)
  return { ok: sessionIds.length > 0 && userIds.length > 0, id: String(sessionIds.length) }
})
app.post('/floor/none', { schema: { body, response } }, async (request) => ({ ok: true, id: request.body.id }))
app.post('/floor/redis', { schema: { body, response } }, async (request) => {
  await touch(request.body.id)
  return { ok: true, id: request.body.id }
})
// start: the limiter, the user by identifier (a new address: not there), the start script, the enqueue
app.post('/floor/start', { schema: { body, response } }, async (request) => {
  await touch(request.body.id)
  const found = await users.findOne({ email: `${request.body.id}@floor.example` })
  await touch(request.body.id)
  await touch(`${request.body.id}:job`)
  return { ok: found === null, id: request.body.id }
})
// verify at sign-up: the limiter, the verify script, the upsert of the user, the session insert
app.post('/floor/verify', { schema: { body, response } }, async (request) => {
  await touch(request.body.id)
  await touch(request.body.id)
  const now = new Date()
  await users.findOneAndUpdate({ email: `${request.body.id}@floor.example` }, { $setOnInsert: { status: 'active', lastLoginAt: now, createdAt: now, updatedAt: now } }, { upsert: true, returnDocument: 'after' })
  await sessions.insertOne(sessionLike())
  return { ok: true, id: request.body.id }
})
// refresh: the limiter, one findOneAndUpdate of a session by _id, then its user by _id (the status)
app.post('/floor/refresh', { schema: { body, response } }, async (request) => {
  await touch(request.body.id)
  const updated = await sessions.findOneAndUpdate({ _id: sampled(sessionIds) ?? new Types.ObjectId(), revokedAt: null }, { $set: { lastUsedAt: new Date() } }, { returnDocument: 'after' })
  // the floor's sessions name made-up users: the read costs the same found or not
  await users.findOne({ _id: updated ? new Types.ObjectId(updated.userId) : new Types.ObjectId() })
  return { ok: updated !== null, id: request.body.id }
})
// GET /v1/me: the limiter, then the revocation state beside the user by _id
app.get('/floor/me', { schema: { response } }, async () => {
  const id = uniqueHex(24)
  await touch(id)
  const userRead = users.findOne({ _id: sampled(userIds) ?? new Types.ObjectId() })
  const [, found] = await Promise.all([revocationRead(id), userRead])
  return { ok: found !== null, id: found?._id.toHexString() ?? '' }
})

app.addHook('onClose', async () => {
  await mongo.close()
  await redis.quit()
})
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async () => { await app.close() })
await app.listen({ host: config.HOST, port: config.PORT })
