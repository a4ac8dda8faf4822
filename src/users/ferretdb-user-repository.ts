import { Schema, Types, type Connection, type Model } from 'mongoose'
import { verifiedAtField, type IdentifierKind, type LoginStep, type NewUserDefaults, type User } from './user-repository.ts'
import { claimById } from '../mongo-claims.ts'
import { MongoUserRepository, conflict, toUser, type UserDocument } from './mongo-user-repository.ts'

/** an id no user has: the second read of an unknown identifier */
const NO_SUCH_USER = new Types.ObjectId('000000000000000000000000')

/** `_id` is `<kind>:<value>`: inserting the document is the atomic claim of the identifier. */
interface IdentityDocument { _id: string, userId: Types.ObjectId, kind: IdentifierKind, claimedAt: Date }

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

const identityKey = (kind: IdentifierKind, value: string) => `${kind}:${value}`

/**
 * UserRepository for FerretDB 1.x, chosen by MONGODB_COMPAT=ferretdb (or auto). FerretDB runs a filtered update
 * as a read and a separate write, so nothing here trusts a filter to decide between concurrent writers: uniqueness
 * of email and phone comes from the `identities` collection's `_id` (insertion is atomic everywhere), and a
 * returning login reads the user, decides, then writes by `_id`. An identity counts only while its user holds the
 * value, so every two-document write is safe to interrupt:
 * - create: the user is inserted first, then the identity claimed; a crash between leaves an unreachable user.
 * - attach: claim the new identity, update the user, release the old one; a crash leaves a claim that turns
 *   stale (STALE_CLAIM_MS) or a released identity not yet deleted, both of which the next claimer takes over.
 */
export class FerretDbUserRepository extends MongoUserRepository {
  readonly #identities: Model<IdentityDocument>
  readonly #now: () => Date

  constructor (connection: Connection, options: { now?: () => Date } = {}) {
    super(connection)
    this.#identities = connection.models.Identity as Model<IdentityDocument> | undefined ?? connection.model<IdentityDocument>('Identity', identitySchema)
    this.#now = options.now ?? (() => new Date())
  }

  override async init (): Promise<void> {
    // created up front: racing first inserts would each try to create the collection
    await this.users.createCollection()
    await this.#identities.createCollection()
    await this.#identities.createIndexes()
  }

  override async findByIdentifier (kind: IdentifierKind, value: string): Promise<User | null> {
    const { owner } = await this.#resolve(kind, value)
    return owner ? toUser(owner) : null
  }

  override async beginLogin (
    id: string, kind: IdentifierKind, value: string, at: Date, { secondFactor }: { secondFactor: boolean }
  ): Promise<LoginStep> {
    const user = await this.findById(id)
    if (!user || user.status !== 'active' || user[kind] !== value) return { outcome: 'refused' }
    if (secondFactor && user.mfaEnrolled) return { outcome: 'second_factor', user }
    const loggedIn = await this.recordLogin(id, kind, at)
    return loggedIn ? { outcome: 'logged_in', user: loggedIn } : { outcome: 'refused' }
  }

  override async findOrCreateByIdentifier (
    kind: IdentifierKind, value: string, defaults: NewUserDefaults = {}
  ): Promise<{ user: User, created: boolean }> {
    const found = await this.#resolve(kind, value)
    if (found.owner) return { user: toUser(found.owner), created: false }
    const _id = new Types.ObjectId()
    const { locale = null, loginAt } = defaults
    const loggedIn = loginAt && { [verifiedAtField(kind)]: loginAt, lastLoginAt: loginAt }
    const created = await this.users.create({ _id, [kind]: value, locale, mfaEnrolled: false, ...loggedIn })
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      if (await this.#claim(kind, value, _id)) return { user: toUser(created.toObject()), created: true }
      const { identity, owner } = await this.#resolve(kind, value)
      if (owner) {
        await this.users.deleteOne({ _id })
        return { user: toUser(owner), created: false }
      }
      if (identity && !await this.#releaseIfStale(identity)) break
    }
    await this.users.deleteOne({ _id })
    throw conflict(kind)
  }

  /** Claim the new identity, update the user, release the old one (see the class comment for crashes between). */
  protected override async replaceIdentifier (
    _id: Types.ObjectId, kind: IdentifierKind, value: string, verifiedAt: Date
  ): Promise<void> {
    await this.#claimForAttach(kind, value, _id)
    await this.users.updateOne({ _id }, { $set: { [kind]: value, [verifiedAtField(kind)]: verifiedAt } })
    // also sweeps claims of this kind stranded by an earlier interrupted attach
    await this.#identities.deleteMany({ userId: _id, kind, _id: { $ne: identityKey(kind, value) } })
  }

  /** The identity document and, when its user really holds the value, that user. */
  async #resolve (
    kind: IdentifierKind, value: string
  ): Promise<{ identity: IdentityDocument | null, owner: UserDocument | null }> {
    const identity = await this.#identities.findById(identityKey(kind, value)).lean<IdentityDocument>()
    // an unknown identifier costs the same two reads as a known one, so timing does not tell them apart
    const user = await this.users.findById(identity?.userId ?? NO_SUCH_USER).lean<UserDocument>()
    if (!identity) return { identity: null, owner: null }
    return { identity, owner: user && user[kind] === value ? user : null }
  }

  async #claim (kind: IdentifierKind, value: string, userId: Types.ObjectId): Promise<boolean> {
    return await claimById(this.#identities, { _id: identityKey(kind, value), userId, kind, claimedAt: this.#now() })
  }

  async #claimForAttach (kind: IdentifierKind, value: string, userId: Types.ObjectId): Promise<void> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      if (await this.#claim(kind, value, userId)) return
      // our own claim from an interrupted attach: renew it so nobody takes it as stale while we finish
      const renewed = await this.#identities.updateOne(
        { _id: identityKey(kind, value), userId }, { $set: { claimedAt: this.#now() } }
      )
      if (renewed.matchedCount === 1) return
      const { identity, owner } = await this.#resolve(kind, value)
      if (owner || (identity && !await this.#releaseIfStale(identity))) break
    }
    throw conflict(kind)
  }

  /** Deletes a claim left by a crash; false while it may still be an attach in flight. */
  async #releaseIfStale (identity: IdentityDocument): Promise<boolean> {
    if (this.#now().getTime() - identity.claimedAt.getTime() < STALE_CLAIM_MS) return false
    // matching claimedAt too: a claim renewed since we read it is not stale any more
    await this.#identities.deleteOne({ _id: identity._id, userId: identity.userId, claimedAt: identity.claimedAt })
    return true
  }
}
