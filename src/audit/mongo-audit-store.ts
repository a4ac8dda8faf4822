import { Schema, type Connection, type Model } from 'mongoose'
import type { Collection } from 'mongodb'
import type { AuditEvent } from './audit-event.ts'
import type { AuditPosition, AuditStore } from './audit-store.ts'

interface AuditDocument extends Omit<AuditEvent, 'id'> {
  _id: string
}

const auditSchema = new Schema<AuditDocument>({
  _id: { type: String, required: true },
  type: { type: String, required: true },
  userId: { type: String, default: null },
  identifier: { type: String, default: null },
  ip: { type: String, default: null },
  userAgent: { type: String, default: null },
  requestId: { type: String, default: null },
  at: { type: Date, required: true },
  amr: { type: [String], default: null },
  reason: { type: String, default: null },
  actor: { type: String, default: null }
}, { collection: 'audit_events', versionKey: false })
// a user's page, newest first, is one index range
auditSchema.index({ userId: 1, at: -1, _id: -1 })

const TTL_INDEX = 'at_ttl'
const INDEX_OPTIONS_CONFLICT = 85

const toEvent = ({ _id, ...event }: AuditDocument): AuditEvent => ({
  id: _id, ...event, amr: event.amr ? [...event.amr] : null, actor: event.actor ?? null
})

export interface MongoAuditStoreOptions {
  /** how long events are kept (AUDIT_RETENTION_DAYS): the TTL index's expiry */
  retentionMs: number
}

/**
 * AuditStore on MongoDB: the `audit_events` collection, written in unordered batches, read by user newest first
 * through one compound index. Old events leave through a TTL index on `at` (AUDIT_RETENTION_DAYS).
 */
export class MongoAuditStore implements AuditStore {
  readonly #events: Model<AuditDocument>
  readonly #options: MongoAuditStoreOptions

  constructor (connection: Connection, options: MongoAuditStoreOptions) {
    this.#events = connection.models.AuditEvent as Model<AuditDocument> | undefined ?? connection.model<AuditDocument>('AuditEvent', auditSchema)
    this.#options = options
  }

  async init (): Promise<void> {
    await this.#events.createCollection()
    await this.#events.createIndexes()
    await this.#ttlIndex(Math.round(this.#options.retentionMs / 1000))
  }

  /** Creates the TTL index, or changes its expiry when AUDIT_RETENTION_DAYS changed since it was made. */
  async #ttlIndex (expireAfterSeconds: number): Promise<void> {
    try {
      await this.#events.collection.createIndex({ at: 1 }, { expireAfterSeconds, name: TTL_INDEX })
    } catch (error) {
      if ((error as { code?: unknown }).code !== INDEX_OPTIONS_CONFLICT) throw error
      await this.#events.db.db!.command({
        collMod: this.#events.collection.collectionName, index: { name: TTL_INDEX, expireAfterSeconds }
      })
    }
  }

  async insertMany (events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return
    // the driver's own insert: these documents are built by AuditLog, mongoose's casting would only cost time
    const documents = events.map(({ id, ...event }): AuditDocument => ({ _id: id, ...event }))
    await (this.#events.collection as unknown as Collection<AuditDocument>).insertMany(documents, { ordered: false })
  }

  async deleteByUser (userId: string): Promise<number> {
    return (await this.#events.deleteMany({ userId })).deletedCount
  }

  async listByUser (userId: string, limit: number, after: AuditPosition | null): Promise<AuditEvent[]> {
    const older = after === null ? {} : { $or: [{ at: { $lt: after.at } }, { at: after.at, _id: { $lt: after.id } }] }
    const documents = await this.#events.find({ userId, ...older })
      .sort({ at: -1, _id: -1 })
      .limit(limit)
      .lean<AuditDocument[]>()
    return documents.map(toEvent)
  }
}
