import { Schema, Types, type Connection, type Model } from 'mongoose'
import { MongoRotationLock, type RotationLockOptions } from './mongo-rotation-lock.ts'
import {
  PREVIOUS_HASHES_KEPT, previousHashOutcome,
  type NewSession, type PreviousHash, type RotateResult, type Rotation, type Session, type SessionRepository
} from './session-repository.ts'

interface SessionDocument extends Omit<Session, 'id' | 'familyId'> {
  _id: Types.ObjectId
  previousHashes: PreviousHash[]
}

const sessionSchema = new Schema<SessionDocument>({
  userId: { type: String, required: true },
  tokenHash: { type: String, required: true },
  previousHashes: { type: [new Schema<PreviousHash>({ hash: String, rotatedAt: Date }, { _id: false })], default: [] },
  amr: { type: [String], default: [] },
  createdAt: { type: Date, required: true },
  lastUsedAt: { type: Date, required: true },
  expiresAt: { type: Date, required: true },
  revokedAt: { type: Date, default: null },
  userAgent: { type: String, default: null },
  ip: { type: String, default: null }
}, { collection: 'sessions', versionKey: false })
sessionSchema.index({ tokenHash: 1 }, { unique: true })
sessionSchema.index({ 'previousHashes.hash': 1 })
sessionSchema.index({ userId: 1 })

const after = { returnDocument: 'after' } as const
const NOT_IMPLEMENTED = 238

const live = (now: Date) => ({ revokedAt: null, expiresAt: { $gt: now } })
const isLive = (session: Pick<SessionDocument, 'revokedAt' | 'expiresAt'>, now: Date) => session.revokedAt === null && now.getTime() < session.expiresAt.getTime()
const toObjectId = (id: string) => /^[0-9a-f]{24}$/i.test(id) ? new Types.ObjectId(id) : null

function toSession ({ _id, previousHashes, ...session }: SessionDocument): Session {
  return { id: _id.toHexString(), familyId: _id.toHexString(), ...session, amr: [...session.amr] }
}

/**
 * SessionRepository on MongoDB (FerretDB-compatible). Every query filters on revokedAt and expiresAt itself:
 * the TTL index only keeps the collection small, and FerretDB has no TTL indexes at all.
 * A rotation is a findOneAndUpdate compare-and-swap on the current hash, taken under a per-token lock
 * (mongo-rotation-lock.ts) because FerretDB's updates are not atomic; parallel callers wait for the winner's
 * result and then see the hash as a previous one.
 */
export class MongoSessionRepository implements SessionRepository {
  readonly #sessions: Model<SessionDocument>
  readonly #lock: MongoRotationLock
  /** After init: whether the server took the TTL indexes (MongoDB does, FerretDB 1.x does not). */
  ttlIndex = false

  constructor (connection: Connection, options: { rotationLock?: RotationLockOptions } = {}) {
    this.#sessions = connection.model<SessionDocument>('Session', sessionSchema)
    this.#lock = new MongoRotationLock(connection, options.rotationLock)
  }

  async init (): Promise<void> {
    await this.#sessions.createCollection()
    await this.#sessions.createIndexes()
    const lockTtl = await this.#lock.init()
    try {
      await this.#sessions.collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'expiresAt_ttl' })
      this.ttlIndex = lockTtl
    } catch (error) {
      if ((error as { code?: unknown }).code !== NOT_IMPLEMENTED) throw error
    }
  }

  async create (input: NewSession): Promise<Session> {
    const session = await this.#sessions.create({
      userId: input.userId,
      tokenHash: input.tokenHash,
      amr: input.amr,
      createdAt: input.now,
      lastUsedAt: input.now,
      expiresAt: input.expiresAt,
      userAgent: input.userAgent ?? null,
      ip: input.ip ?? null
    })
    return toSession(session.toObject())
  }

  async rotate (rotation: Rotation): Promise<RotateResult> {
    const { tokenHash, now, graceSeconds } = rotation
    // a second look after waiting: the winner's swap landed (the hash is now a previous one) or failed, or a
    // crashed rotation's stale lock was broken and the hash may be rotated here
    for (let pass = 0; pass < 2; pass++) {
      const current = await this.#sessions.findOne({ tokenHash }).lean<SessionDocument>()
      if (!current) break
      if (!isLive(current, now)) return { outcome: 'invalid' }
      if (await this.#lock.acquire(tokenHash)) {
        try {
          const session = await this.#swap(current, rotation)
          if (session) return { outcome: 'rotated', session }
        } finally {
          await this.#lock.release(tokenHash)
        }
        break
      }
      // a parallel rotation of this token holds the lock: decide once its result is visible
      if (!await this.#lock.waitForRelease(tokenHash)) return { outcome: 'invalid' }
    }
    const owner = await this.#sessions.findOne({ 'previousHashes.hash': tokenHash }).lean<SessionDocument>()
    const previous = owner?.previousHashes.find((entry) => entry.hash === tokenHash)
    if (!owner || !previous || !isLive(owner, now)) return { outcome: 'invalid' }
    if (previousHashOutcome(previous, now, graceSeconds) === 'grace') return { outcome: 'rotated', session: toSession(owner) }
    await this.#sessions.updateOne({ _id: owner._id, revokedAt: null }, { $set: { revokedAt: now } })
    return { outcome: 'reused', session: toSession({ ...owner, revokedAt: now }) }
  }

  /** The compare-and-swap itself; null when the session moved on, was revoked or expired since it was read. */
  async #swap (current: SessionDocument, { tokenHash, newHash, now, expiresAt }: Rotation): Promise<Session | null> {
    // Capped here rather than with $push/$slice, which FerretDB ignores. Safe: the filter on the current hash
    // guarantees the document is still the one read, as only a rotation changes previousHashes.
    const previousHashes = [...current.previousHashes, { hash: tokenHash, rotatedAt: now }].slice(-PREVIOUS_HASHES_KEPT)
    const rotated = await this.#sessions.findOneAndUpdate(
      { _id: current._id, tokenHash, ...live(now) },
      { $set: { tokenHash: newHash, previousHashes, lastUsedAt: now, expiresAt } },
      after
    ).lean<SessionDocument>()
    return rotated ? toSession(rotated) : null
  }

  async findById (id: string): Promise<Session | null> {
    const _id = toObjectId(id)
    const session = _id && await this.#sessions.findById(_id).lean<SessionDocument>()
    return session ? toSession(session) : null
  }

  async listActive (userId: string, now: Date): Promise<Session[]> {
    const sessions = await this.#sessions.find({ userId, ...live(now) }).sort({ lastUsedAt: -1 }).lean<SessionDocument[]>()
    return sessions.map(toSession)
  }

  async revoke (id: string, userId: string, now: Date): Promise<boolean> {
    const _id = toObjectId(id)
    if (!_id) return false
    const result = await this.#sessions.updateOne({ _id, userId, ...live(now) }, { $set: { revokedAt: now } })
    return result.modifiedCount === 1
  }

  async revokeByTokenHash (tokenHash: string, userId: string, now: Date): Promise<boolean> {
    const result = await this.#sessions.updateOne(
      { $or: [{ tokenHash }, { 'previousHashes.hash': tokenHash }], userId, ...live(now) },
      { $set: { revokedAt: now } }
    )
    return result.modifiedCount === 1
  }

  async revokeAll (userId: string, now: Date): Promise<number> {
    const result = await this.#sessions.updateMany({ userId, ...live(now) }, { $set: { revokedAt: now } })
    return result.modifiedCount
  }

  async isActive (id: string, now: Date): Promise<boolean> {
    const _id = toObjectId(id)
    // On every authenticated request: a lookup by _id alone, liveness checked here. The same index read on
    // MongoDB; FerretDB only pushes a bare _id filter down, so there this is ~7× cheaper (bench/, `me`).
    const session = _id && await this.#sessions.findById(_id, { revokedAt: 1, expiresAt: 1 }).lean<Pick<SessionDocument, 'revokedAt' | 'expiresAt'>>()
    return session !== null && isLive(session, now)
  }
}
