import { Schema, Types, type Connection, type Model } from 'mongoose'
import { AppError } from '../errors.ts'
import { verifiedAtField, type IdentifierKind, type NewUserDefaults, type ProfilePatch, type User, type UserRepository, type UserStatus } from './user-repository.ts'

/** an id no user has: the second read of an unknown identifier */
const NO_SUCH_USER = new Types.ObjectId('000000000000000000000000')

interface UserDocument extends Omit<User, 'id'> { _id: Types.ObjectId }

/** `_id` is `<kind>:<value>`: inserting the document is the atomic claim of the identifier. */
interface IdentityDocument { _id: string, userId: Types.ObjectId, kind: IdentifierKind, claimedAt: Date }

const nullableString = { type: String, default: null }
const nullableDate = { type: Date, default: null }

const userSchema = new Schema<UserDocument>({
  email: nullableString,
  phone: nullableString,
  emailVerifiedAt: nullableDate,
  phoneVerifiedAt: nullableDate,
  name: nullableString,
  locale: nullableString,
  status: { type: String, enum: ['active', 'disabled'], default: 'active', required: true },
  lastLoginAt: nullableDate
}, { collection: 'users', timestamps: true, versionKey: false })

const identitySchema = new Schema<IdentityDocument>({
  _id: { type: String, required: true },
  userId: { type: Schema.Types.ObjectId, required: true },
  kind: { type: String, enum: ['email', 'phone'], required: true },
  claimedAt: { type: Date, required: true }
}, { collection: 'identities', versionKey: false })
identitySchema.index({ userId: 1, kind: 1 })

/**
 * A claim whose user does not hold the identifier is an attach in flight for this long, then debris of a crash
 * that anyone may take over. An attach takes milliseconds; a minute leaves room for a stalled process.
 */
const STALE_CLAIM_MS = 60_000
const CLAIM_ATTEMPTS = 3
const after = { returnDocument: 'after' } as const

const identityKey = (kind: IdentifierKind, value: string) => `${kind}:${value}`
const isDuplicateKey = (error: unknown) => (error as { code?: unknown } | null)?.code === 11000
const toObjectId = (id: string) => /^[0-9a-f]{24}$/i.test(id) ? new Types.ObjectId(id) : null
const conflict = (kind: IdentifierKind) => new AppError('conflict', { detail: `This ${kind} belongs to another account.` })

function toUser ({ _id, ...rest }: UserDocument): User {
  return {
    id: _id.toHexString(),
    email: rest.email,
    phone: rest.phone,
    emailVerifiedAt: rest.emailVerifiedAt,
    phoneVerifiedAt: rest.phoneVerifiedAt,
    name: rest.name,
    locale: rest.locale,
    status: rest.status,
    lastLoginAt: rest.lastLoginAt,
    createdAt: rest.createdAt,
    updatedAt: rest.updatedAt
  }
}

/**
 * UserRepository on MongoDB (FerretDB-compatible). Uniqueness of email and phone comes from the `identities`
 * collection's `_id`, not from indexes on `users`: a unique index there would need a partial filter so that many
 * users can lack a phone, and FerretDB has none. An identity counts only while its user holds the value, so every
 * two-document write is safe to interrupt:
 * - create: the user is inserted first, then the identity claimed; a crash between leaves an unreachable user.
 * - attach: claim the new identity, update the user, release the old one; a crash leaves a claim that turns
 *   stale (STALE_CLAIM_MS) or a released identity not yet deleted, both of which the next claimer takes over.
 */
export class MongoUserRepository implements UserRepository {
  readonly #users: Model<UserDocument>
  readonly #identities: Model<IdentityDocument>

  constructor (connection: Connection) {
    this.#users = connection.model<UserDocument>('User', userSchema)
    this.#identities = connection.model<IdentityDocument>('Identity', identitySchema)
  }

  async init (): Promise<void> {
    // created up front: racing first inserts would each try to create the collection
    await this.#users.createCollection()
    await this.#identities.createCollection()
    await this.#identities.createIndexes()
  }

  async findById (id: string): Promise<User | null> {
    const _id = toObjectId(id)
    const user = _id && await this.#users.findById(_id).lean<UserDocument>()
    return user ? toUser(user) : null
  }

  async findByIdentifier (kind: IdentifierKind, value: string): Promise<User | null> {
    const { owner } = await this.#resolve(kind, value)
    return owner ? toUser(owner) : null
  }

  async findOrCreateByIdentifier (kind: IdentifierKind, value: string, defaults: NewUserDefaults = {}): Promise<{ user: User, created: boolean }> {
    const found = await this.#resolve(kind, value)
    if (found.owner) return { user: toUser(found.owner), created: false }
    const _id = new Types.ObjectId()
    const { locale = null, loginAt } = defaults
    const loggedIn = loginAt && { [verifiedAtField(kind)]: loginAt, lastLoginAt: loginAt }
    const created = await this.#users.create({ _id, [kind]: value, locale, ...loggedIn })
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      if (await this.#claim(kind, value, _id)) return { user: toUser(created.toObject()), created: true }
      const { identity, owner } = await this.#resolve(kind, value)
      if (owner) {
        await this.#users.deleteOne({ _id })
        return { user: toUser(owner), created: false }
      }
      if (identity && !await this.#releaseIfStale(identity)) break
    }
    await this.#users.deleteOne({ _id })
    throw conflict(kind)
  }

  async recordLogin (id: string, kind: IdentifierKind, at: Date): Promise<User | null> {
    const _id = toObjectId(id)
    if (!_id) return null
    const user = await this.#update(_id, { lastLoginAt: at })
    const field = verifiedAtField(kind)
    // A returning user is verified already: one write. "Set unless set" is a second, conditional update, only at
    // the first login with this identifier (in one update it needs an update pipeline, which FerretDB lacks).
    if (user === null || user[kind] === null || user[field] !== null) return user
    const verified = await this.#users.findOneAndUpdate({ _id, [field]: null }, { $set: { [field]: at } }, after).lean<UserDocument>()
    return verified ? toUser(verified) : await this.findById(id)
  }

  async updateProfile (id: string, patch: ProfilePatch): Promise<User | null> {
    const _id = toObjectId(id)
    const set: Partial<ProfilePatch> = {}
    if (patch.name !== undefined) set.name = patch.name
    if (patch.locale !== undefined) set.locale = patch.locale
    return _id && this.#update(_id, set)
  }

  async attachIdentifier (id: string, kind: IdentifierKind, value: string, verifiedAt: Date): Promise<User> {
    const _id = toObjectId(id)
    const user = _id && await this.#users.findById(_id).lean<UserDocument>()
    if (!_id || !user) throw new AppError('unauthorized', { detail: 'The user no longer exists.' })
    const field = verifiedAtField(kind)
    if (user[kind] === value) {
      await this.#users.updateOne({ _id, [field]: null }, { $set: { [field]: verifiedAt } })
    } else {
      await this.#claimForAttach(kind, value, _id)
      await this.#users.updateOne({ _id }, { $set: { [kind]: value, [field]: verifiedAt } })
      // also sweeps claims of this kind stranded by an earlier interrupted attach
      await this.#identities.deleteMany({ userId: _id, kind, _id: { $ne: identityKey(kind, value) } })
    }
    const updated = await this.findById(id)
    if (!updated) throw new AppError('unauthorized', { detail: 'The user no longer exists.' })
    return updated
  }

  async setStatus (id: string, status: UserStatus): Promise<User | null> {
    const _id = toObjectId(id)
    return _id && this.#update(_id, { status })
  }

  async #update (_id: Types.ObjectId, set: Record<string, unknown>): Promise<User | null> {
    const user = await this.#users.findOneAndUpdate({ _id }, { $set: set }, after).lean<UserDocument>()
    return user ? toUser(user) : null
  }

  /** The identity document and, when its user really holds the value, that user. */
  async #resolve (kind: IdentifierKind, value: string): Promise<{ identity: IdentityDocument | null, owner: UserDocument | null }> {
    const identity = await this.#identities.findById(identityKey(kind, value)).lean<IdentityDocument>()
    // an unknown identifier costs the same two reads as a known one, so timing does not tell them apart
    const user = await this.#users.findById(identity?.userId ?? NO_SUCH_USER).lean<UserDocument>()
    if (!identity) return { identity: null, owner: null }
    return { identity, owner: user && user[kind] === value ? user : null }
  }

  async #claim (kind: IdentifierKind, value: string, userId: Types.ObjectId): Promise<boolean> {
    try {
      await this.#identities.create({ _id: identityKey(kind, value), userId, kind, claimedAt: new Date() })
      return true
    } catch (error) {
      if (isDuplicateKey(error)) return false
      throw error
    }
  }

  async #claimForAttach (kind: IdentifierKind, value: string, userId: Types.ObjectId): Promise<void> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      if (await this.#claim(kind, value, userId)) return
      // our own claim from an interrupted attach: renew it so nobody takes it as stale while we finish
      const renewed = await this.#identities.updateOne({ _id: identityKey(kind, value), userId }, { $set: { claimedAt: new Date() } })
      if (renewed.matchedCount === 1) return
      const { identity, owner } = await this.#resolve(kind, value)
      if (owner || (identity && !await this.#releaseIfStale(identity))) break
    }
    throw conflict(kind)
  }

  /** Deletes a claim left by a crash; false while it may still be an attach in flight. */
  async #releaseIfStale (identity: IdentityDocument): Promise<boolean> {
    if (Date.now() - identity.claimedAt.getTime() < STALE_CLAIM_MS) return false
    // matching claimedAt too: a claim renewed since we read it is not stale any more
    await this.#identities.deleteOne({ _id: identity._id, userId: identity.userId, claimedAt: identity.claimedAt })
    return true
  }
}
