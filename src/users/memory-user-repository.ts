import { randomBytes } from 'node:crypto'
import { AppError } from '../errors.ts'
import { verifiedAtField, type IdentifierKind, type LoginStep, type NewUserDefaults, type ProfilePatch, type User, type UserRepository, type UserStatus } from './user-repository.ts'

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
    const now = new Date(this.#now())
    // same shape as a MongoDB ObjectId, so ids look alike whichever adapter made them
    const user: User = {
      id: randomBytes(12).toString('hex'),
      email: null,
      phone: null,
      emailVerifiedAt: null,
      phoneVerifiedAt: null,
      name: null,
      locale: defaults.locale ?? null,
      status: 'active',
      lastLoginAt: null,
      mfaEnrolled: false,
      createdAt: now,
      updatedAt: now
    }
    user[kind] = value
    if (defaults.loginAt) {
      user[verifiedAtField(kind)] = new Date(defaults.loginAt)
      user.lastLoginAt = new Date(defaults.loginAt)
    }
    this.#users.set(user.id, user)
    this.#identities.set(identityKey(kind, value), user.id)
    return { user: structuredClone(user), created: true }
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
