import { Schema, Types, type Connection, type Model } from 'mongoose'
import {
  isSessionId, staleRotationOutcome,
  type NewSession, type RotateResult, type Rotation, type Session, type SessionRepository
} from './session-repository.ts'
import { modelOf, toObjectId } from '../stores/mongo-models.ts'

interface SessionDocument extends Omit<Session, 'id'> {
  _id: Types.ObjectId
}

const sessionSchema = new Schema<SessionDocument>({
  userId: { type: String, required: true },
  tokenHash: { type: String, required: true },
  generation: { type: Number, required: true, default: 0 },
  amr: { type: [String], default: [] },
  createdAt: { type: Date, required: true },
  lastUsedAt: { type: Date, required: true },
  expiresAt: { type: Date, required: true },
  revokedAt: { type: Date, default: null },
  userAgent: { type: String, default: null },
  ip: { type: String, default: null }
}, { collection: 'sessions', versionKey: false })
sessionSchema.index({ userId: 1 })

const after = { returnDocument: 'after' } as const
const INVALID: RotateResult = { outcome: 'invalid' }

const live = (now: Date) => ({ revokedAt: null, expiresAt: { $gt: now } })
const isLive = (session: Pick<SessionDocument, 'revokedAt' | 'expiresAt'>, now: Date) => session.revokedAt === null && now.getTime() < session.expiresAt.getTime()

function toSession ({ _id, ...session }: SessionDocument): Session {
  return { id: _id.toHexString(), ...session, amr: [...session.amr] }
}

/**
 * SessionRepository on MongoDB. Every query filters on revokedAt and expiresAt itself: the TTL index only keeps
 * the collection small (its monitor runs once a minute). A refresh token names its session (`_id`), so a rotation
 * is ONE findOneAndUpdate on `{ _id, generation, tokenHash, live }`, atomic on MongoDB: of parallel rotations of
 * one token exactly one matches. Only a miss (reuse, grace, or an invalid token) reads again.
 */
export class MongoSessionRepository implements SessionRepository {
  readonly #sessions: Model<SessionDocument>

  constructor (connection: Connection) {
    this.#sessions = modelOf(connection, 'Session', sessionSchema)
  }

  async init (): Promise<void> {
    await this.#sessions.createCollection()
    await this.#sessions.createIndexes()
    await this.#sessions.collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'expiresAt_ttl' })
  }

  async create (input: NewSession): Promise<Session> {
    if (!isSessionId(input.id)) throw new Error('a session id is 24 hex digits (tokens.ts newSessionId)')
    // every field set here, typed: through the driver, not a Mongoose document (hydration, casting and validation
    // of what is already right cost a sign-in more CPU than the insert)
    const session: SessionDocument = {
      _id: new Types.ObjectId(input.id),
      userId: input.userId,
      tokenHash: input.tokenHash,
      generation: 0,
      amr: [...input.amr],
      createdAt: input.now,
      lastUsedAt: input.now,
      expiresAt: input.expiresAt,
      revokedAt: null,
      userAgent: input.userAgent ?? null,
      ip: input.ip ?? null
    }
    await this.#sessions.collection.insertOne(session)
    return toSession(session)
  }

  async rotate (rotation: Rotation): Promise<RotateResult> {
    const _id = toObjectId(rotation.sessionId)
    if (!_id) return INVALID
    const { generation, tokenHash, newHash, now, expiresAt } = rotation
    // the compare-and-swap is the filter. The hash is compared by the server, not in constant time: it is a
    // SHA-256 of a token with 128 unknown bits and a tag, so how long a mismatch takes says nothing useful
    // through the driver: the hot write of every refresh, its values already typed
    const rotated = await this.#sessions.collection.findOneAndUpdate(
      { _id, generation, tokenHash, ...live(now) },
      { $set: { tokenHash: newHash, generation: generation + 1, lastUsedAt: now, expiresAt } },
      after
    ) as SessionDocument | null
    if (rotated) return { outcome: 'rotated', session: toSession(rotated) }
    // the miss: a used token (reuse, or a parallel refresh within grace), or nothing of this session
    const current = await this.#sessions.findById(_id).lean<SessionDocument>()
    if (!current || !isLive(current, now)) return INVALID
    return this.#presentedStale(current, rotation)
  }

  /** Not the session's current token: an already used one (reuse, or grace), or nothing of it. */
  async #presentedStale (current: SessionDocument, rotation: Rotation): Promise<RotateResult> {
    const { now } = rotation
    const outcome = staleRotationOutcome(current, rotation)
    if (outcome === 'invalid') return INVALID
    if (outcome === 'grace') return { outcome: 'rotated', session: toSession(current) }
    await this.#sessions.updateOne({ _id: current._id, revokedAt: null }, { $set: { revokedAt: now } })
    return { outcome: 'reused', session: toSession({ ...current, revokedAt: now }) }
  }

  async findById (id: string): Promise<Session | null> {
    const _id = toObjectId(id)
    const session = _id && await this.#sessions.findById(_id).lean<SessionDocument>()
    return session ? toSession(session) : null
  }

  async listActive (userId: string, now: Date): Promise<Session[]> {
    const sessions = await this.#sessions.find({ userId, ...live(now) })
      .sort({ lastUsedAt: -1 })
      .lean<SessionDocument[]>()
    return sessions.map(toSession)
  }

  async revoke (id: string, userId: string, now: Date): Promise<boolean> {
    const _id = toObjectId(id)
    if (!_id) return false
    const result = await this.#sessions.updateOne({ _id, userId, ...live(now) }, { $set: { revokedAt: now } })
    return result.modifiedCount === 1
  }

  async revokeByToken (
    { sessionId, generation, tokenHash }: { sessionId: string, generation: number, tokenHash: string },
    userId: string,
    now: Date
  ): Promise<boolean> {
    const _id = toObjectId(sessionId)
    if (!_id) return false
    const result = await this.#sessions.updateOne(
      { _id, userId, $or: [{ generation, tokenHash }, { generation: { $gt: generation } }], ...live(now) },
      { $set: { revokedAt: now } }
    )
    return result.modifiedCount === 1
  }

  async revokeAll (userId: string, now: Date): Promise<number> {
    const result = await this.#sessions.updateMany({ userId, ...live(now) }, { $set: { revokedAt: now } })
    return result.modifiedCount
  }

  async deleteByUser (userId: string): Promise<number> {
    return (await this.#sessions.deleteMany({ userId })).deletedCount
  }

  async isActive (id: string, now: Date): Promise<boolean> {
    const _id = toObjectId(id)
    // only when Redis's revocation state cannot decide (plugins/auth.ts): by _id alone, liveness checked here
    const session = _id && await this.#sessions.findById(_id, { revokedAt: 1, expiresAt: 1 }).lean<Pick<SessionDocument, 'revokedAt' | 'expiresAt'>>()
    return session !== null && isLive(session, now)
  }
}
