import type { AuditLog } from '../audit/audit-log.ts'
import type { Notifier } from '../delivery/notices.ts'
import type { Outbox } from '../delivery/outbox.ts'
import type { SessionRepository } from '../sessions/session-repository.ts'
import type { TotpAuthenticator } from '../totp/totp-authenticator.ts'
import type { User, UserRepository } from '../users/user-repository.ts'
import type { PasskeyRepository } from '../passkeys/passkey-repository.ts'
import type { SessionService } from './session-service.ts'
import type { AccountProof, AccountProofInput, Caller } from './account-proof.ts'

export interface AccountErasureOptions {
  users: UserRepository
  sessions: SessionRepository
  sessionService: SessionService
  totp: TotpAuthenticator
  passkeys: Pick<PasskeyRepository, 'removeAll'>
  audit: AuditLog
  notifier: Notifier
  /** the dev outbox keeps messages in the clear: an erased user's go too */
  outbox: Outbox
  /** what the owner shows to delete their own account: what changing a sign-in identifier needs */
  accountProof: AccountProof
}

/**
 * Deleting an account (DELETE /v1/me, DELETE /v1/admin/users/{id}), completely: afterwards nothing in MongoDB or
 * Redis names the user's id, email or phone in the clear. The user document goes first, so a sign-in racing this
 * finds nobody and its identifiers are free; then every token ends (the Redis "not before" entry, keyed by a hash
 * of the id), the sessions, authenticator, recovery codes and passkeys are deleted, and the security events of the
 * user are deleted (not anonymised: kept under another id they would still be a history of one person). The verified
 * identifiers are told by a notice, queued sealed like every notice.
 * Round trips: M read, M delete; R "not before" ∥ M revoke; M delete sessions ∥ M credential ∥ M passkeys ∥
 * R attempts; M events.
 */
export class AccountErasure {
  readonly #options: AccountErasureOptions

  constructor (options: AccountErasureOptions) {
    this.#options = options
  }

  /** The owner deletes their account: with proof (403 reauthentication_required otherwise). */
  async eraseOwn (caller: Caller, proof: AccountProofInput): Promise<void> {
    await this.#options.accountProof.require(caller, proof, 'Deleting the account')
    await this.erase(caller.userId)
  }

  /** false when there is no such user. */
  async erase (userId: string): Promise<boolean> {
    const { users, sessions, sessionService, totp, passkeys, audit, outbox } = this.#options
    const user = await users.delete(userId)
    if (user === null) return false
    await sessionService.endAll(userId)
    await Promise.all([
      sessions.deleteByUser(userId),
      totp.forget(userId),
      passkeys.removeAll(userId),
      ...[user.email, user.phone].flatMap((to) => to === null ? [] : [outbox.remove(to)])
    ])
    // last: ending the sessions recorded events of the user too
    await audit.eraseUser(userId)
    await this.#tell(user)
    return true
  }

  /** Each verified identifier hears that the account is gone; a notice that cannot be queued stops nothing. */
  async #tell (user: User): Promise<void> {
    const notices = []
    if (user.email !== null && user.emailVerifiedAt !== null) notices.push({ channel: 'email' as const, to: user.email })
    if (user.phone !== null && user.phoneVerifiedAt !== null) notices.push({ channel: 'sms' as const, to: user.phone })
    await Promise.allSettled(notices.map(({ channel, to }) =>
      this.#options.notifier.notify({ kind: 'account_deleted', channel, to, locale: user.locale })))
  }
}
