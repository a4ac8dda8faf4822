import { Schema, Types, type Connection, type Model } from 'mongoose'
import { MongoRotationLock, type RotationLockOptions } from './mongo-rotation-lock.ts'
import {
  PREVIOUS_HASHES_KEPT, isSessionId, previousHashOutcome, sameHash,
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
sessionSchema.index({ userId: 1 })

const after = { returnDocument: 'after' } as const
const INDEX_NOT_FOUND = 27
const NOT_IMPLEMENTED = 238
/** of the lookups by hash that refresh tokens naming their session replaced; on writes they only cost time */
const OBSOLETE_INDEXES = ['tokenHash_1', 'previousHashes.hash_1']
const INVALID: RotateResult = { outcome: 'invalid' }

const live = (now: Date) => ({ revokedAt: null, expiresAt: { $gt: now } })
const isLive = (session: Pick<SessionDocument, 'revokedAt' | 'expiresAt'>, now: Date) => session.revokedAt === null && now.getTime() < session.expiresAt.getTime()
const toObjectId = (id: string) => /^[0-9a-f]{24}$/i.test(id) ? new Types.ObjectId(id) : null

function toSession ({ _id, previousHashes, ...session }: SessionDocument): Session {
  return { id: _id.toHexString(), familyId: _id.toHexString(), ...session, amr: [...session.amr] }
}

export interface MongoSessionRepositoryOptions {
  rotationLock?: RotationLockOptions
  /** whether the server runs a filtered update atomically; detected by init when not given */
  atomicUpdates?: boolean
}

/**
 * SessionRepository on MongoDB (FerretDB-compatible). Every query filters on revokedAt and expiresAt itself:
 * the TTL index only keeps the collection small, and FerretDB has no TTL indexes at all.
 * A rotation reads the session by `_id` (the token's selector), compares hashes in code, and swaps under a
 * per-token lock (mongo-rotation-lock.ts) because FerretDB's updates are not atomic; parallel callers wait for
 * the winner's result and then see the hash as a previous one. On MongoDB the swap is a findOneAndUpdate
 * compare-and-swap on `_id`, the current hash and liveness. FerretDB 1.x hands only a bare `_id` filter to its
 * storage and fetches the whole collection for any other, so there the swap reads the session again under the
 * lock and writes by `_id` alone: no less safe than its own filtered update, a read and a separate write.
 */
export class MongoSessionRepository implements SessionRepository {
  readonly #connection: Connection
  readonly #sessions: Model<SessionDocument>
  readonly #lock: MongoRotationLock
  readonly #options: MongoSessionRepositoryOptions
  /** After init: whether the server took the TTL indexes (MongoDB does, FerretDB 1.x does not). */
  ttlIndex = false
  /** After init: whether filtered updates are atomic, so a rotation swaps with a filtered compare-and-swap. */
  atomicUpdates = false

  constructor (connection: Connection, options: MongoSessionRepositoryOptions = {}) {
    this.#connection = connection
    this.#sessions = connection.model<SessionDocument>('Session', sessionSchema)
    this.#lock = new MongoRotationLock(connection, options.rotationLock)
    this.#options = options
  }

  async init (): Promise<void> {
    this.atomicUpdates = this.#options.atomicUpdates ?? !await this.#isFerretDb()
    await this.#sessions.createCollection()
    await this.#sessions.createIndexes()
    await Promise.all(OBSOLETE_INDEXES.map((name) => this.#sessions.collection.dropIndex(name).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== INDEX_NOT_FOUND) throw error
    })))
    const lockTtl = await this.#lock.init()
    try {
      await this.#sessions.collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'expiresAt_ttl' })
      this.ttlIndex = lockTtl
    } catch (error) {
      if ((error as { code?: unknown }).code !== NOT_IMPLEMENTED) throw error
    }
  }

  async #isFerretDb (): Promise<boolean> {
    const info = await this.#connection.getClient().db('admin').command({ buildInfo: 1 })
    return typeof info.ferretdbVersion === 'string'
  }

  async create (input: NewSession): Promise<Session> {
    if (!isSessionId(input.id)) throw new Error('a session id is 24 hex digits (tokens.ts newSessionId)')
    const session = await this.#sessions.create({
      _id: new Types.ObjectId(input.id),
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
    const { sessionId, tokenHash, now } = rotation
    const _id = toObjectId(sessionId)
    if (!_id) return INVALID
    // a second and third look after waiting: the winner's swap landed (the hash is now a previous one) or failed,
    // or a crashed rotation's stale lock was broken and the hash may be rotated here
    for (let look = 0; look < 3; look++) {
      const current = await this.#sessions.findById(_id).lean<SessionDocument>()
      if (!current || !isLive(current, now)) return INVALID
      if (!sameHash(current.tokenHash, tokenHash)) return this.#presentedPrevious(current, rotation)
      if (look === 2) break
      if (await this.#lock.acquire(tokenHash)) {
        try {
          const session = await this.#swap(current, rotation)
          if (session) return { outcome: 'rotated', session }
        } finally {
          await this.#lock.release(tokenHash)
        }
      } else if (!await this.#lock.waitForRelease(tokenHash)) {
        // a parallel rotation of this token holds the lock for too long
        return INVALID
      }
    }
    return INVALID
  }

  /** A hash that is not the session's current one: an already used token (reuse, or grace), or nothing of it. */
  async #presentedPrevious (current: SessionDocument, { tokenHash, now, graceSeconds }: Rotation): Promise<RotateResult> {
    const previous = current.previousHashes.find((entry) => sameHash(entry.hash, tokenHash))
    if (!previous) return INVALID
    if (previousHashOutcome(previous, now, graceSeconds) === 'grace') return { outcome: 'rotated', session: toSession(current) }
    await this.#sessions.updateOne({ _id: current._id, revokedAt: null }, { $set: { revokedAt: now } })
    return { outcome: 'reused', session: toSession({ ...current, revokedAt: now }) }
  }

  /** The swap, under the token's lock; null when the session moved on, was revoked or expired since it was read. */
  async #swap (read: SessionDocument, { tokenHash, newHash, now, expiresAt }: Rotation): Promise<Session | null> {
    // without atomic updates, the lock is what keeps other rotations of this token out: read what it guards
    const current = this.atomicUpdates ? read : await this.#sessions.findById(read._id).lean<SessionDocument>()
    if (!current || !sameHash(current.tokenHash, tokenHash) || !isLive(current, now)) return null
    // Capped here rather than with $push/$slice, which FerretDB ignores. Safe: only a rotation of the current hash
    // changes previousHashes, and the filter on that hash (or the lock) keeps any other out.
    const previousHashes = [...current.previousHashes, { hash: tokenHash, rotatedAt: now }].slice(-PREVIOUS_HASHES_KEPT)
    const rotated = await this.#sessions.findOneAndUpdate(
      this.atomicUpdates ? { _id: current._id, tokenHash, ...live(now) } : { _id: current._id },
      { $set: { tokenHash: newHash, previousHashes, lastUsedAt: now, expiresAt } },
      after
    ).lean<SessionDocument>()
    // without atomic updates a revocation may land between the read and the write: it stays (a swap never touches
    // revokedAt), as if it had come just after this rotation
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

  async revokeByTokenHash (sessionId: string, tokenHash: string, userId: string, now: Date): Promise<boolean> {
    const _id = toObjectId(sessionId)
    if (!_id) return false
    const result = await this.#sessions.updateOne(
      { _id, userId, $or: [{ tokenHash }, { 'previousHashes.hash': tokenHash }], ...live(now) },
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
