import type { AuditEvent } from '../audit/audit-event.ts'
import type { AuditLog } from '../audit/audit-log.ts'
import type { Session, SessionRepository } from '../sessions/session-repository.ts'
import type { TotpAuthenticator, TotpStatus } from '../totp/totp-authenticator.ts'
import type { User } from '../users/user-repository.ts'
import type { Passkey, PasskeyRepository } from '../passkeys/passkey-repository.ts'

/** events exported at most: AUDIT_RETENTION_DAYS bounds them anyway */
const MAX_EVENTS = 5000
const PAGE = 100

interface ExportOptions {
  sessions: SessionRepository
  totp: TotpAuthenticator
  passkeys: Pick<PasskeyRepository, 'listByUser'>
  audit: AuditLog
  now: () => Date
}

export interface AccountData {
  user: User
  sessions: Session[]
  authenticator: TotpStatus
  passkeys: Passkey[]
  activity: AuditEvent[]
}

/**
 * What the service holds of a user, for GET /v1/me/export (GDPR art. 20): the user with its identifiers, their
 * verification times and metadata, the live sessions, whether an authenticator is bound, the passkeys (names and
 * times), and the security events.
 * Never a secret: no token hash, no authenticator secret, no recovery code.
 */
export class AccountExport {
  readonly #options: ExportOptions

  constructor (options: ExportOptions) {
    this.#options = options
  }

  async of (user: User): Promise<AccountData> {
    const { sessions, totp, passkeys, now } = this.#options
    const [live, authenticator, registered, activity] = await Promise.all([
      sessions.listActive(user.id, now()), totp.status(user.id), passkeys.listByUser(user.id), this.#activity(user.id)
    ])
    return { user, sessions: live, authenticator, passkeys: registered, activity }
  }

  async #activity (userId: string): Promise<AuditEvent[]> {
    const events: AuditEvent[] = []
    let cursor: string | undefined
    do {
      const page = await this.#options.audit.list(userId, { limit: PAGE, cursor })
      events.push(...page.events)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined && events.length < MAX_EVENTS)
    return events
  }
}
