import { AppError } from '../errors.ts'
import type { AuditRecorder } from '../audit/audit-event.ts'
import type { OtpEngine } from '../otp/otp-engine.ts'
import type { TotpAuthenticator } from '../totp/totp-authenticator.ts'
import type { SessionService } from '../auth/session-service.ts'
import type { Session, SessionRepository } from '../sessions/session-repository.ts'
import type { IdentifierKind, Metadata, User, UserQuery, UserRepository, UserStatus } from '../users/user-repository.ts'
import { checkMetadata } from '../users/metadata.ts'
import type { AccountErasure } from '../auth/account-erasure.ts'
import type { Notifier } from '../delivery/notices.ts'

export interface AdminUsersOptions {
  users: UserRepository
  sessions: SessionRepository
  sessionService: SessionService
  otp: OtpEngine
  totp: TotpAuthenticator
  audit: AuditRecorder
  erasure: AccountErasure
  notifier: Notifier
  now: () => Date
}

export interface AdminUserPatch {
  status?: UserStatus
  appMetadata?: unknown
  userMetadata?: unknown
}

const notFound = () => new AppError('not_found', { detail: 'No such user.' })

/**
 * What the admin API does to accounts, each action an audit event of the user's naming the key (`admin:<name>`),
 * so the user's own activity shows it was done by an administrator. Identifiers arrive normalised.
 */
export class AdminUsers {
  readonly #options: AdminUsersOptions

  constructor (options: AdminUsersOptions) {
    this.#options = options
  }

  async list (query: UserQuery): Promise<{ users: User[], nextCursor: string | null }> {
    // one more than asked tells whether a next page exists
    const found = await this.#options.users.list({ ...query, limit: query.limit + 1 })
    const users = found.slice(0, query.limit)
    return { users, nextCursor: found.length > query.limit ? users.at(-1)?.id ?? null : null }
  }

  async get (id: string): Promise<User> {
    return await this.#options.users.findById(id) ?? (() => { throw notFound() })()
  }

  /** A user holding the identifier, unverified until its first sign-in; nothing is sent. */
  async create (
    actor: string, kind: IdentifierKind, value: string, fields: { locale?: string | null, appMetadata?: unknown }
  ): Promise<User> {
    const appMetadata = fields.appMetadata === undefined ? undefined : checkMetadata('appMetadata', fields.appMetadata)
    const locale = fields.locale ?? null
    const user = await this.#options.users.create(kind, value, { locale, ...(appMetadata ? { appMetadata } : {}) })
    this.#record('account_created', actor, user.id)
    return user
  }

  /**
   * Every member checked before anything is written. Disabling ends every session and access token at once
   * (SessionService.endAll, the revocation entries); appMetadata reaches the token at its next refresh.
   */
  async update (actor: string, id: string, patch: AdminUserPatch): Promise<User> {
    const metadata: { appMetadata?: Metadata, userMetadata?: Metadata } = {}
    if (patch.appMetadata !== undefined) metadata.appMetadata = checkMetadata('appMetadata', patch.appMetadata)
    if (patch.userMetadata !== undefined) metadata.userMetadata = checkMetadata('userMetadata', patch.userMetadata)
    const { users, sessionService } = this.#options
    let user = await this.get(id)
    if (Object.keys(metadata).length > 0) {
      user = await users.updateProfile(id, metadata) ?? (() => { throw notFound() })()
    }
    if (patch.status !== undefined && patch.status !== user.status) {
      // the status first: a sign-in racing this is refused by it once the sessions are ended
      user = await users.setStatus(id, patch.status) ?? (() => { throw notFound() })()
      if (patch.status === 'disabled') await sessionService.endAll(id)
    }
    this.#record('account_updated', actor, id, Object.keys(patch).sort().join(','))
    return user
  }

  /** The account's erasure, as DELETE /v1/me does it; nothing is recorded of the user, who no longer exists. */
  async delete (id: string): Promise<void> {
    if (!await this.#options.erasure.erase(id)) throw notFound()
  }

  async listSessions (id: string): Promise<Session[]> {
    await this.get(id)
    return await this.#options.sessions.listActive(id, this.#options.now())
  }

  async endSessions (actor: string, id: string): Promise<void> {
    await this.get(id)
    await this.#options.sessionService.endAll(id)
    this.#record('session_ended', actor, id, 'end_all')
  }

  /** For a user who lost the device: the authenticator and recovery codes go, and so do the sessions. */
  async removeAuthenticator (actor: string, id: string): Promise<void> {
    const user = await this.get(id)
    await this.#options.totp.removeByAdministrator(id)
    await this.#options.sessionService.endAll(id)
    this.#record('authenticator_removed', actor, id, 'admin')
    // the owner hears of it on the email (else the phone): someone talking support into this would be told
    const [channel, to] = user.email !== null ? ['email' as const, user.email] : ['sms' as const, user.phone]
    if (to !== null) {
      await this.#options.notifier.notify({ kind: 'authenticator_removed', channel, to, locale: user.locale }).catch(() => {})
    }
  }

  /** Lifts the throttle and the suspension of an identifier: codes to it, and authenticator sign-in with it. */
  async unblock (actor: string, kind: IdentifierKind, value: string): Promise<void> {
    const { otp, totp, users } = this.#options
    const user = await users.findByIdentifier(kind, value)
    await Promise.all([
      otp.clearFailures(kind === 'email' ? 'email' : 'sms', value),
      totp.clearIdentifierFailures(kind, value),
      user && totp.clearFailures(user.id)
    ])
    this.#options.audit.record('identifier_unblocked', { userId: user?.id ?? null, identifier: value, actor: `admin:${actor}` })
  }

  #record (type: 'account_created' | 'account_updated' | 'session_ended' | 'authenticator_removed', actor: string, userId: string, reason?: string): void {
    this.#options.audit.record(type, { userId, reason: reason ?? null, actor: `admin:${actor}` })
  }
}
