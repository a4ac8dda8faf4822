export type IdentifierKind = 'email' | 'phone'
export type UserStatus = 'active' | 'disabled'

export interface User {
  id: string
  /** normalised (identifiers.ts); at most one user holds a given address or number */
  email: string | null
  phone: string | null
  emailVerifiedAt: Date | null
  phoneVerifiedAt: Date | null
  name: string | null
  locale: string | null
  status: UserStatus
  lastLoginAt: Date | null
  /**
   * Set before an authenticator app becomes active and cleared after it is removed, so "false" is a promise that
   * there is none and a login needs no second read to decide on a second factor; "true" may outlive a crash.
   */
  mfaEnrolled: boolean
  /** written by administrators only; carried in access tokens as the `app_metadata` claim (metadata.ts) */
  appMetadata: Metadata
  /** written by the user (PATCH /v1/me) and administrators; never in a token */
  userMetadata: Metadata
  createdAt: Date
  updatedAt: Date
}

/** A JSON object checked by metadata.ts: at most 2 KB, no key starting with `$` or holding a `.`. */
export type Metadata = Record<string, unknown>

export interface ProfilePatch {
  name?: string | null
  locale?: string | null
  /** replaces the whole object */
  appMetadata?: Metadata
  userMetadata?: Metadata
}

/** A page of users, newest first: `after` is the id of the last user of the previous page. */
export interface UserQuery {
  email?: string
  phone?: string
  status?: UserStatus
  limit: number
  after?: string | null
}

export interface NewUserDefaults { locale?: string | null, loginAt?: Date }

/**
 * Where users and their login identifiers live. Identifier values are already normalised by the caller
 * (normaliseEmail / normalisePhone); the repository compares them byte for byte.
 * Every method takes ids as strings; an id that is unknown or malformed reads as "no such user" (null),
 * never as an error. Users are returned as copies: mutating one changes nothing stored.
 */
/** What the login step of a returning user found (UserRepository.beginLogin). */
export type LoginStep =
  | { outcome: 'logged_in', user: User }
  | { outcome: 'second_factor', user: User }
  | { outcome: 'refused' }

export interface UserRepository {
  /** Creates indexes; idempotent, call once at start-up. */
  init (): Promise<void>

  /** null when unknown or malformed. */
  findById (id: string): Promise<User | null>

  /** The user who owns the identifier, or null. */
  findByIdentifier (kind: IdentifierKind, value: string): Promise<User | null>

  /**
   * Atomically returns the user owning the identifier, or creates one (status active, locale from defaults,
   * nothing verified yet unless defaults.loginAt). Two concurrent calls for one new identifier create exactly
   * one user: both get the same id, exactly one sees created: true.
   * defaults.loginAt, a login that just proved the identifier: a created user is created as recordLogin would
   * leave it (`<kind>VerifiedAt` and lastLoginAt set), saving that write; a found user is returned untouched.
   * Throws AppError('conflict') only in the instant another account is attaching that identifier.
   */
  findOrCreateByIdentifier (
    kind: IdentifierKind, value: string, defaults?: NewUserDefaults
  ): Promise<{ user: User, created: boolean }>

  /**
   * A successful login with `kind`: sets lastLoginAt, and `<kind>VerifiedAt` when the user holds an identifier
   * of that kind not verified yet (a first verification is never moved). null when the user does not exist.
   */
  recordLogin (id: string, kind: IdentifierKind, at: Date): Promise<User | null>

  /**
   * The login of a returning user who proved `kind` = `value`: when user `id` is active and still holds that
   * identifier, records the login as recordLogin does → 'logged_in'; unless `secondFactor` is asked for and the user
   * has mfaEnrolled → 'second_factor', nothing written. Anything else (unknown, disabled, the identifier moved
   * to another account meanwhile) → 'refused'. On MongoDB one findOneAndUpdate in the usual case.
   */
  beginLogin (
    id: string, kind: IdentifierKind, value: string, at: Date, options: { secondFactor: boolean }
  ): Promise<LoginStep>

  /** Sets mfaEnrolled; null when the user does not exist. */
  setMfaEnrolled (id: string, enrolled: boolean): Promise<User | null>

  /** Sets the given members only (null clears); null when the user does not exist. */
  updateProfile (id: string, patch: ProfilePatch): Promise<User | null>

  /**
   * Gives the user a verified identifier, replacing and releasing the one of that kind it had (another user may
   * then claim the old one). Attaching what the user already holds only fills in a missing verifiedAt.
   * Throws AppError('conflict') when another user owns the identifier, AppError('unauthorized') when the user
   * does not exist (its token outlived it).
   */
  attachIdentifier (id: string, kind: IdentifierKind, value: string, verifiedAt: Date): Promise<User>

  /**
   * Users newest first (by id, which grows with creation time), filtered by exact identifier and status, at most
   * `limit`, only those older than `after` when given (a malformed `after` reads as no more users).
   */
  list (query: UserQuery): Promise<User[]>

  /**
   * Creates a user holding the identifier, unverified, with the given locale and appMetadata; throws
   * AppError('conflict') when another user holds it.
   */
  create (
    kind: IdentifierKind, value: string, fields?: { locale?: string | null, appMetadata?: Metadata }
  ): Promise<User>

  /** Deletes the user; returns what it was, or null when it did not exist. Its identifiers are free at once. */
  delete (id: string): Promise<User | null>

  /** null when the user does not exist. */
  setStatus (id: string, status: UserStatus): Promise<User | null>

  /** Releases what the adapter holds; the MongoDB connection itself belongs to the caller. */
  close? (): Promise<void>
}

/** `emailVerifiedAt` or `phoneVerifiedAt`. */
export const verifiedAtField = (kind: IdentifierKind) => `${kind}VerifiedAt` as const
