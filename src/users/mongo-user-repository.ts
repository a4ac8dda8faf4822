import { Schema, Types, type Connection, type Model } from 'mongoose'
import { AppError } from '../errors.ts'
import { isDuplicateKey } from '../stores/mongo-claims.ts'
import { modelOf, toObjectId } from '../stores/mongo-models.ts'
import {
  verifiedAtField,
  type IdentifierKind, type LoginStep, type Metadata, type NewUserDefaults, type ProfilePatch, type User,
  type UserQuery,
  type UserRepository, type UserStatus
} from './user-repository.ts'

/**
 * Stored shape: a new user's document holds only the fields that have a value; an absent one reads as null. An
 * identifier the user lacks must be absent (not null) so that the sparse unique indexes skip it.
 */
interface UserDocument extends Omit<User, 'id' | 'email' | 'phone' | NullableField>, Partial<Pick<User, NullableField>> {
  _id: Types.ObjectId
  email?: string | null
  phone?: string | null
}

type NullableField = 'emailVerifiedAt' | 'phoneVerifiedAt' | 'name' | 'locale' | 'lastLoginAt' | 'appMetadata' | 'userMetadata'

const nullableString = { type: String, default: null }
const nullableDate = { type: Date, default: null }

const userSchema = new Schema<UserDocument>({
  email: { type: String },
  phone: { type: String },
  emailVerifiedAt: nullableDate,
  phoneVerifiedAt: nullableDate,
  name: nullableString,
  locale: nullableString,
  status: { type: String, enum: ['active', 'disabled'], default: 'active', required: true },
  lastLoginAt: nullableDate,
  mfaEnrolled: { type: Boolean, default: false },
  // absent until set: users created before metadata existed, and most users, have none
  appMetadata: { type: Schema.Types.Mixed },
  userMetadata: { type: Schema.Types.Mixed }
}, { collection: 'users', timestamps: true, versionKey: false })

const after = { returnDocument: 'after' } as const
const conflict = (kind: IdentifierKind) => new AppError('conflict', { detail: `This ${kind} belongs to another account.` })
const gone = () => new AppError('unauthorized', { detail: 'The user no longer exists.' })
const REFUSED: LoginStep = { outcome: 'refused' }

function toUser ({ _id, ...rest }: UserDocument): User {
  return {
    id: _id.toHexString(),
    email: rest.email ?? null,
    phone: rest.phone ?? null,
    emailVerifiedAt: rest.emailVerifiedAt ?? null,
    phoneVerifiedAt: rest.phoneVerifiedAt ?? null,
    name: rest.name ?? null,
    locale: rest.locale ?? null,
    status: rest.status,
    lastLoginAt: rest.lastLoginAt ?? null,
    // users stored before MFA existed have no mfaEnrolled
    mfaEnrolled: rest.mfaEnrolled ?? false,
    appMetadata: (rest.appMetadata ?? {}) as Metadata,
    userMetadata: (rest.userMetadata ?? {}) as Metadata,
    createdAt: rest.createdAt,
    updatedAt: rest.updatedAt
  }
}

/**
 * UserRepository on MongoDB. One identifier, one user: unique sparse indexes on `email` and `phone` (a user
 * without a phone has no `phone` field, so many users can lack one). The hot paths are one command each:
 * a start reads by identifier, a returning login is one findOneAndUpdate, a sign-up one upsert; each is atomic
 * on its document, and the unique indexes settle parallel sign-ups and identifier changes.
 */
export class MongoUserRepository implements UserRepository {
  readonly #users: Model<UserDocument>

  constructor (connection: Connection) {
    this.#users = modelOf(connection, 'User', userSchema)
  }

  async init (): Promise<void> {
    await this.#users.createCollection()
    await Promise.all((['email', 'phone'] as const).map((field) =>
      this.#users.collection.createIndex({ [field]: 1 }, { unique: true, sparse: true, name: `${field}_unique` })))
  }

  async findById (id: string): Promise<User | null> {
    const _id = toObjectId(id)
    // through the driver, not a Mongoose query: the read of every refresh and every authenticated request
    const user = _id && await this.#users.collection.findOne<UserDocument>({ _id })
    return user ? toUser(user) : null
  }

  async findByIdentifier (kind: IdentifierKind, value: string): Promise<User | null> {
    // known or unknown, one index lookup: timing does not tell them apart. Through the driver, not a Mongoose
    // query: the hot read of every code request
    const user = await this.#users.collection.findOne<UserDocument>({ [kind]: value })
    return user ? toUser(user) : null
  }

  async findOrCreateByIdentifier (
    kind: IdentifierKind, value: string, defaults: NewUserDefaults = {}
  ): Promise<{ user: User, created: boolean }> {
    const { locale, loginAt } = defaults
    const loggedIn = loginAt ? { [verifiedAtField(kind)]: loginAt, lastLoginAt: loginAt } : {}
    const now = new Date()
    try {
      // the filter's equality on the identifier goes into the inserted document; fields without a value stay out
      const result = await this.#users.collection.findOneAndUpdate(
        { [kind]: value },
        { $setOnInsert: { ...(locale ? { locale } : {}), status: 'active', mfaEnrolled: false, ...loggedIn, createdAt: now, updatedAt: now } },
        { upsert: true, returnDocument: 'after', includeResultMetadata: true }
      )
      const user = result.value as UserDocument | null
      if (!user) throw conflict(kind)
      return { user: toUser(user), created: result.lastErrorObject?.updatedExisting === false }
    } catch (error) {
      // a parallel upsert inserted it first: the unique index refused ours
      if (!isDuplicateKey(error)) throw error
      const winner = await this.#users.findOne({ [kind]: value }).lean<UserDocument>()
      if (!winner) throw conflict(kind)
      return { user: toUser(winner), created: false }
    }
  }

  async beginLogin (
    id: string, kind: IdentifierKind, value: string, at: Date, { secondFactor }: { secondFactor: boolean }
  ): Promise<LoginStep> {
    const _id = toObjectId(id)
    if (!_id) return REFUSED
    const filter: Record<string, unknown> = { _id, [kind]: value, status: 'active' }
    if (secondFactor) filter.mfaEnrolled = { $ne: true }
    // through the driver: the write of every returning sign-in (updatedAt set as Mongoose's timestamps would)
    const update = { $set: { lastLoginAt: at, updatedAt: new Date() } }
    const user = await this.#users.collection.findOneAndUpdate(filter, update, after) as UserDocument | null
    if (user) return { outcome: 'logged_in', user: await this.#verifyOnFirstLogin(toUser(user), kind, at) }
    // off the hot path: why the filter missed
    const found = await this.findById(id)
    if (!found || found.status !== 'active' || found[kind] !== value) return REFUSED
    return { outcome: 'second_factor', user: found }
  }

  async recordLogin (id: string, kind: IdentifierKind, at: Date): Promise<User | null> {
    const _id = toObjectId(id)
    const user = _id && await this.#update(_id, { lastLoginAt: at })
    return user && await this.#verifyOnFirstLogin(user, kind, at)
  }

  /**
   * "Set unless set" for `<kind>VerifiedAt`, only at the first login with that identifier: users signed up by a
   * login are created verified, so this second write is rare, and the login's own write stays a plain `$set`
   * rather than an update pipeline on every login.
   */
  async #verifyOnFirstLogin (user: User, kind: IdentifierKind, at: Date): Promise<User> {
    const field = verifiedAtField(kind)
    if (user[kind] === null || user[field] !== null) return user
    const _id = new Types.ObjectId(user.id)
    const verified = await this.#users.findOneAndUpdate({ _id, [field]: null }, { $set: { [field]: at } }, after)
      .lean<UserDocument>()
    return verified ? toUser(verified) : await this.findById(user.id) ?? user
  }

  async setMfaEnrolled (id: string, enrolled: boolean): Promise<User | null> {
    const _id = toObjectId(id)
    return _id && this.#update(_id, { mfaEnrolled: enrolled })
  }

  async updateProfile (id: string, patch: ProfilePatch): Promise<User | null> {
    const _id = toObjectId(id)
    const set: Partial<ProfilePatch> = {}
    if (patch.name !== undefined) set.name = patch.name
    if (patch.locale !== undefined) set.locale = patch.locale
    if (patch.appMetadata !== undefined) set.appMetadata = patch.appMetadata
    if (patch.userMetadata !== undefined) set.userMetadata = patch.userMetadata
    return _id && this.#update(_id, set)
  }

  async attachIdentifier (id: string, kind: IdentifierKind, value: string, verifiedAt: Date): Promise<User> {
    const _id = toObjectId(id)
    const user = _id && await this.#users.findById(_id).lean<UserDocument>()
    if (!_id || !user) throw gone()
    const field = verifiedAtField(kind)
    if (user[kind] === value) {
      await this.#users.updateOne({ _id, [field]: null }, { $set: { [field]: verifiedAt } })
    } else {
      try {
        // the unique index decides: a value another user holds refuses the update
        await this.#users.updateOne({ _id }, { $set: { [kind]: value, [field]: verifiedAt } })
      } catch (error) {
        if (isDuplicateKey(error)) throw conflict(kind)
        throw error
      }
    }
    const updated = await this.findById(id)
    if (!updated) throw gone()
    return updated
  }

  async list ({ email, phone, status, limit, after }: UserQuery): Promise<User[]> {
    const filter: Record<string, unknown> = {}
    if (email !== undefined) filter.email = email
    if (phone !== undefined) filter.phone = phone
    if (status !== undefined) filter.status = status
    if (after != null) {
      const before = toObjectId(after)
      if (!before) return []
      filter._id = { $lt: before }
    }
    // ObjectIds grow with their creation time: newest first is one walk of the _id index
    const users = await this.#users.collection.find<UserDocument>(filter).sort({ _id: -1 }).limit(limit).toArray()
    return users.map(toUser)
  }

  async create (
    kind: IdentifierKind, value: string, fields: { locale?: string | null, appMetadata?: Metadata } = {}
  ): Promise<User> {
    const now = new Date()
    const document = {
      _id: new Types.ObjectId(),
      [kind]: value,
      ...(fields.locale ? { locale: fields.locale } : {}),
      ...(fields.appMetadata && Object.keys(fields.appMetadata).length > 0 ? { appMetadata: fields.appMetadata } : {}),
      status: 'active',
      mfaEnrolled: false,
      createdAt: now,
      updatedAt: now
    }
    try {
      await this.#users.collection.insertOne(document)
    } catch (error) {
      if (isDuplicateKey(error)) throw conflict(kind)
      throw error
    }
    return toUser(document as unknown as UserDocument)
  }

  async delete (id: string): Promise<User | null> {
    const _id = toObjectId(id)
    const user = _id && await this.#users.collection.findOneAndDelete({ _id })
    return user ? toUser(user as unknown as UserDocument) : null
  }

  async setStatus (id: string, status: UserStatus): Promise<User | null> {
    const _id = toObjectId(id)
    return _id && this.#update(_id, { status })
  }

  async #update (_id: Types.ObjectId, set: Record<string, unknown>): Promise<User | null> {
    const user = await this.#users.findOneAndUpdate({ _id }, { $set: set }, after).lean<UserDocument>()
    return user ? toUser(user) : null
  }
}
