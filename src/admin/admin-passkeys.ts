import { AppError } from '../errors.ts'
import type { AuditRecorder } from '../audit/audit-event.ts'
import type { UserRepository } from '../users/user-repository.ts'
import type { Passkey, PasskeyRepository } from '../passkeys/passkey-repository.ts'

export interface AdminPasskeysOptions {
  users: Pick<UserRepository, 'findById'>
  passkeys: PasskeyRepository
  audit: AuditRecorder
}

/**
 * What the admin API does to a user's passkeys: see them, and remove one the user lost (support, after checking
 * who asks). A removal is an audit event of the user's naming the key (`admin:<name>`).
 */
export class AdminPasskeys {
  readonly #options: AdminPasskeysOptions

  constructor (options: AdminPasskeysOptions) {
    this.#options = options
  }

  async list (userId: string): Promise<Passkey[]> {
    if (await this.#options.users.findById(userId) === null) throw new AppError('not_found', { detail: 'No such user.' })
    return await this.#options.passkeys.listByUser(userId)
  }

  async remove (actor: string, userId: string, passkeyId: string): Promise<void> {
    if (!await this.#options.passkeys.remove(userId, passkeyId)) throw new AppError('not_found', { detail: 'No such user or passkey.' })
    this.#options.audit.record('authenticator_removed', { userId, reason: 'passkey', actor: `admin:${actor}` })
  }
}
