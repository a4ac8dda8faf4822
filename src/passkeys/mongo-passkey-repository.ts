import { Schema, type Connection, type Model } from 'mongoose'
import { isDuplicateKey } from '../stores/mongo-claims.ts'
import { modelOf } from '../stores/mongo-models.ts'
import type { Passkey, PasskeyAddOutcome, PasskeyRepository } from './passkey-repository.ts'

/** `slot` is 0..max-1, unique per user: the unique index, not a count read before the insert, holds the limit. */
interface PasskeyDocument extends Omit<Passkey, 'id'> { _id: string, slot: number }

const passkeySchema = new Schema<PasskeyDocument>({
  _id: { type: String, required: true },
  userId: { type: String, required: true },
  slot: { type: Number, required: true },
  credentialId: { type: String, required: true },
  publicKey: { type: String, required: true },
  counter: { type: Number, required: true },
  transports: { type: [String], default: [] },
  backedUp: { type: Boolean, required: true },
  name: { type: String, required: true },
  createdAt: { type: Date, required: true },
  lastUsedAt: { type: Date, default: null }
}, { collection: 'passkeys', versionKey: false })
passkeySchema.index({ credentialId: 1 }, { unique: true })
passkeySchema.index({ userId: 1, slot: 1 }, { unique: true })

function toPasskey ({ _id, slot: _slot, ...rest }: PasskeyDocument): Passkey {
  return {
    id: _id,
    userId: rest.userId,
    credentialId: rest.credentialId,
    publicKey: rest.publicKey,
    counter: rest.counter,
    transports: [...rest.transports],
    backedUp: rest.backedUp,
    name: rest.name,
    createdAt: rest.createdAt,
    lastUsedAt: rest.lastUsedAt ?? null
  }
}

/**
 * PasskeyRepository on MongoDB: one document per passkey in `passkeys`. The limit per user is a slot number
 * with a unique index on (userId, slot): an add takes the lowest free slot, and of two concurrent adds for one
 * slot the index refuses the second, which tries the next; with no slot left the user is at the limit. The
 * counter moves with a filtered update on the counter that was checked.
 */
export class MongoPasskeyRepository implements PasskeyRepository {
  readonly #passkeys: Model<PasskeyDocument>

  constructor (connection: Connection) {
    this.#passkeys = modelOf(connection, 'Passkey', passkeySchema)
  }

  async init (): Promise<void> {
    await this.#passkeys.createCollection()
    await this.#passkeys.createIndexes()
  }

  async add ({ id, ...passkey }: Passkey, maxPerUser: number): Promise<PasskeyAddOutcome> {
    // each refused insert is a slot someone else took since the read, so this ends within maxPerUser tries
    for (let tries = 0; tries <= maxPerUser; tries++) {
      const slots = await this.#passkeys.find({ userId: passkey.userId }, { slot: 1 }).lean()
      const taken = new Set(slots.map((doc) => doc.slot))
      const slot = Array.from({ length: maxPerUser }, (_, index) => index).find((index) => !taken.has(index))
      if (slot === undefined) return 'limit_reached'
      try {
        await this.#passkeys.create({ _id: id, slot, ...passkey })
        return 'added'
      } catch (error) {
        if (!isDuplicateKey(error)) throw error
        if (await this.#passkeys.exists({ credentialId: passkey.credentialId })) return 'duplicate'
      }
    }
    return 'limit_reached'
  }

  async listByUser (userId: string): Promise<Passkey[]> {
    const found = await this.#passkeys.find({ userId }).sort({ createdAt: 1, _id: 1 }).lean<PasskeyDocument[]>()
    return found.map(toPasskey)
  }

  async findByCredentialId (credentialId: string): Promise<Passkey | null> {
    const found = await this.#passkeys.findOne({ credentialId }).lean<PasskeyDocument>()
    return found ? toPasskey(found) : null
  }

  async recordUse (credentialId: string, previousCounter: number, counter: number, at: Date): Promise<boolean> {
    const result = await this.#passkeys.updateOne(
      { credentialId, counter: previousCounter }, { $set: { counter, lastUsedAt: at } }
    )
    return result.matchedCount === 1
  }

  async rename (userId: string, id: string, name: string): Promise<Passkey | null> {
    const found = await this.#passkeys.findOneAndUpdate({ _id: id, userId }, { $set: { name } }, { returnDocument: 'after' }).lean<PasskeyDocument>()
    return found ? toPasskey(found) : null
  }

  async remove (userId: string, id: string): Promise<boolean> {
    return (await this.#passkeys.deleteOne({ _id: id, userId })).deletedCount === 1
  }

  async removeAll (userId: string): Promise<number> {
    return (await this.#passkeys.deleteMany({ userId })).deletedCount
  }
}
