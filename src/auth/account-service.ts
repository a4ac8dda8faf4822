import type { UserRepository } from '../users/user-repository.ts'
import type { SessionService } from './session-service.ts'

/**
 * What an operator does to an account. There is no admin HTTP route yet: an operator's tool calls this.
 * Disabling ends every session and every access token issued until now (SessionService.endAll), so refresh and
 * every authenticated route answer 401 at once; code requests get the decoy answer and no code.
 */
export class AccountService {
  readonly #users: UserRepository
  readonly #sessions: SessionService

  constructor ({ users, sessions }: { users: UserRepository, sessions: SessionService }) {
    this.#users = users
    this.#sessions = sessions
  }

  /** false when there is no such user. */
  async disable (userId: string): Promise<boolean> {
    // the status first: a login racing this is refused by it once the sessions are ended
    const user = await this.#users.setStatus(userId, 'disabled')
    if (user === null) return false
    await this.#sessions.endAll(userId)
    return true
  }
}
