import { randomBytes } from '../random-bytes.ts'
import { AppError } from '../errors.ts'
import {
  verifiedAtField,
  type IdentifierKind, type LoginStep, type Metadata, type NewUserDefaults, type ProfilePatch, type User,
  type UserQuery,
  type UserRepository, type UserStatus
} from './user-repository.ts'

const identityKey = (kind: IdentifierKind, value: string) => `${kind}:${value}`

/**
 * UserRepository in process memory, for the embedded mode and tests. Every method runs to completion without
 * awaiting anything, so each is atomic on Node's single thread and the contract's races resolve trivially.
 */
export class MemoryUserRepository implements UserRepository {
  readonly #users = new Map<string, User>()
  /** identity key → user id: what the MongoDB adapter's unique indexes on email and phone hold */
  readonly #identities = new Map<string, string>()
  readonly #now: () => number
  /** the low part of ids: ids grow with time, as ObjectIds do, so "newest first" is "largest id first" */
  #counter = randomBytes(6).readUIntBE(0, 6)

  /** `now`: the clock of createdAt and updatedAt, epoch ms */
  constructor ({ now = Date.now }: { now?: () => number } = {}) {
    this.#now = now
  }

  async init (): Promise<void> {}

  async findById (id: string): Promise<User | null> {
    return this.#copy(this.#users.get(id))
  }

  async findByIdentifier (kind: IdentifierKind, value: string): Promise<User | null> {
    const id = this.#identities.get(identityKey(kind, value))
    return this.#copy(id === undefined ? undefined : this.#users.get(id))
  }

  async findOrCreateByIdentifier (
    kind: IdentifierKind, value: string, defaults: NewUserDefaults = {}
  ): Promise<{ user: User, created: boolean }> {
    const owner = this.#identities.get(identityKey(kind, value))
    const existing = owner === undefined ? undefined : this.#users.get(owner)
    if (existing) return { user: structuredClone(existing), created: false }
    const user = this.#insert(kind, value, { locale: defaults.locale ?? null })
    if (defaults.loginAt) {
      user[verifiedAtField(kind)] = new Date(defaults.loginAt)
      user.lastLoginAt = new Date(defaults.loginAt)
    }
    return { user: structuredClone(user), created: true }
  }

  async create (
    kind: IdentifierKind, value: string, fields: { locale?: string | null, appMetadata?: Metadata } = {}
  ): Promise<User> {
    if (this.#identities.has(identityKey(kind, value))) throw new AppError('conflict', { detail: `This ${kind} belongs to another account.` })
    const user = this.#insert(kind, value, { locale: fields.locale ?? null, appMetadata: fields.appMetadata ?? {} })
    return structuredClone(user)
  }

  async list ({ email, phone, status, limit, after }: UserQuery): Promise<User[]> {
    // as MongoDB's adapter reads a malformed cursor: nothing after it
    if (after != null && !/^[0-9a-f]{24}$/.test(after)) return []
    return [...this.#users.values()]
      .filter((user) => (email === undefined || user.email === email) && (phone === undefined || user.phone === phone))
      .filter((user) => (status === undefined || user.status === status) && (after == null || user.id < after))
      .sort((a, b) => a.id < b.id ? 1 : -1)
      .slice(0, limit)
      .map((user) => structuredClone(user))
  }

  async delete (id: string): Promise<User | null> {
    const user = this.#users.get(id)
    if (!user) return null
    this.#users.delete(id)
    for (const kind of ['email', 'phone'] as const) {
      const value = user[kind]
      if (value !== null) this.#identities.delete(identityKey(kind, value))
    }
    return user
  }

  #insert (kind: IdentifierKind, value: string, fields: { locale: string | null, appMetadata?: Metadata }): User {
    const now = new Date(this.#now())
    // the shape of a MongoDB ObjectId (seconds, then a counter): ids look and sort alike whichever adapter made them
    const seconds = Math.floor(now.getTime() / 1000).toString(16).padStart(8, '0')
    const user: User = {
      id: seconds + (this.#counter++).toString(16).padStart(16, '0'),
      email: null,
      phone: null,
      emailVerifiedAt: null,
      phoneVerifiedAt: null,
      name: null,
      locale: fields.locale,
      status: 'active',
      lastLoginAt: null,
      mfaEnrolled: false,
      appMetadata: structuredClone(fields.appMetadata ?? {}),
      userMetadata: {},
      createdAt: now,
      updatedAt: now
    }
    user[kind] = value
    this.#users.set(user.id, user)
    this.#identities.set(identityKey(kind, value), user.id)
    return user
  }

  async recordLogin (id: string, kind: IdentifierKind, at: Date): Promise<User | null> {
    return this.#update(id, (user) => {
      user.lastLoginAt = new Date(at)
      if (user[kind] !== null && user[verifiedAtField(kind)] === null) user[verifiedAtField(kind)] = new Date(at)
    })
  }

  async beginLogin (
    id: string, kind: IdentifierKind, value: string, at: Date, { secondFactor }: { secondFactor: boolean }
  ): Promise<LoginStep> {
    const user = this.#users.get(id)
    if (!user || user.status !== 'active' || user[kind] !== value) return { outcome: 'refused' }
    if (secondFactor && user.mfaEnrolled) return { outcome: 'second_factor', user: structuredClone(user) }
    const loggedIn = await this.recordLogin(id, kind, at)
    return loggedIn ? { outcome: 'logged_in', user: loggedIn } : { outcome: 'refused' }
  }

  async setMfaEnrolled (id: string, enrolled: boolean): Promise<User | null> {
    return this.#update(id, (user) => { user.mfaEnrolled = enrolled })
  }

  async updateProfile (id: string, patch: ProfilePatch): Promise<User | null> {
    return this.#update(id, (user) => {
      if (patch.name !== undefined) user.name = patch.name
      if (patch.locale !== undefined) user.locale = patch.locale
      if (patch.appMetadata !== undefined) user.appMetadata = structuredClone(patch.appMetadata)
      if (patch.userMetadata !== undefined) user.userMetadata = structuredClone(patch.userMetadata)
    })
  }

  async attachIdentifier (id: string, kind: IdentifierKind, value: string, verifiedAt: Date): Promise<User> {
    const user = this.#users.get(id)
    if (!user) throw new AppError('unauthorized', { detail: 'The user no longer exists.' })
    const key = identityKey(kind, value)
    const owner = this.#identities.get(key)
    if (owner !== undefined && owner !== id) throw new AppError('conflict', { detail: `This ${kind} belongs to another account.` })
    const previous = user[kind]
    if (previous === value) {
      user[verifiedAtField(kind)] ??= new Date(verifiedAt)
    } else {
      if (previous !== null) this.#identities.delete(identityKey(kind, previous))
      this.#identities.set(key, id)
      user[kind] = value
      user[verifiedAtField(kind)] = new Date(verifiedAt)
    }
    user.updatedAt = new Date(this.#now())
    return structuredClone(user)
  }

  async setStatus (id: string, status: UserStatus): Promise<User | null> {
    return this.#update(id, (user) => { user.status = status })
  }

  #update (id: string, change: (user: User) => void): User | null {
    const user = this.#users.get(id)
    if (!user) return null
    change(user)
    user.updatedAt = new Date(this.#now())
    return structuredClone(user)
  }

  #copy (user: User | undefined): User | null {
    return user ? structuredClone(user) : null
  }
}
