import type { KeyObject } from 'node:crypto'
import type { Config } from '../config.ts'
import { AppError, isAppError } from '../errors.ts'
import { sameHash, type SessionRepository } from '../sessions/session-repository.ts'
import type { RevocationStore } from '../sessions/revocation-store.ts'
import type { Metadata } from '../users/user-repository.ts'
import { NO_AUDIT, type AuditRecorder } from '../audit/audit-event.ts'
import { NO_METRICS, type Metrics } from '../metrics/metrics.ts'
import type { User, UserRepository } from '../users/user-repository.ts'
import { hashRefreshToken, newRefreshToken, newSessionId, newTokenId, parseRefreshToken, sessionStartOf, successorRefreshToken, type PresentedRefreshToken } from '../sessions/tokens.ts'

/**
 * What an access token says, as this service signs it (iss, aud, iat and exp are added by the signer): the RFC 9068
 * claims, docs/frontend.md has the table. `auth_time` (OIDC Core 2): epoch seconds of the sign-in that opened the
 * session, the same in every token of the session, so a refresh token does not make a session look freshly
 * authenticated. `jti`: this token's own id.
 */
export interface AccessTokenPayload {
  sub: string
  sid: string
  amr: string[]
  auth_time: number
  jti: string
  /** the user's appMetadata as it was when the token was signed (Supabase Auth's claim name, so policies carry over) */
  app_metadata?: Metadata
}

/** The session's sign-in time as `auth_time`: its id holds it, to the second. */
const authTimeOf = (sessionId: string) => Math.floor(sessionStartOf(sessionId).getTime() / 1000)

export interface TokenPair {
  accessToken: string
  refreshToken: string
  tokenType: 'Bearer'
  expiresIn: number
}

/** Where a session is opened from, as the session list shows it. */
export interface ClientInfo { userAgent: string | null, ip: string | null }

export interface SessionServiceOptions {
  sessions: SessionRepository
  /** whose status every refresh and every authenticated request reads: a status set by any path counts */
  users: Pick<UserRepository, 'findById'>
  revocations: RevocationStore
  signAccessToken: (payload: AccessTokenPayload) => Promise<string>
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
  /** no refresh keeps a session past this age (ASVS V7.3) */
  sessionMaxAgeSeconds: number
  /** 0 = none; else a session not refreshed for this long ends, when shorter than refreshTokenTtlSeconds */
  sessionIdleTimeoutSeconds: number
  /** authenticates refresh tokens and derives their successors (tokens.ts) */
  refreshTokenKey: KeyObject
  /** a used refresh token presented again this soon gets the same successor, not a revocation */
  reuseGraceSeconds: number
  now: () => Date
  /** security events: a reused refresh token, a session ended */
  audit?: AuditRecorder,
  /** counts each refresh's outcome */
  metrics?: Metrics
}

const invalidRefreshToken = () => new AppError('unauthorized', { detail: 'The refresh token is not valid.' })
const inactiveAccount = () => new AppError('unauthorized', { detail: 'The account is not active.' })

/**
 * Sessions as the API offers them: open, refresh, end, and whether an access token still counts.
 * Round trips (M = MongoDB, R = Redis), each line one sequential level:
 * - open: M insert.
 * - refresh: M findOneAndUpdate (the compare-and-swap); then M the user by _id (the session names the user, so the
 *   read waits for it: its status, and its appMetadata, so an administrator's change reaches this token); only a
 *   miss reads again (and a reuse revokes: M + R).
 * - authenticate: R one MGET of the revocation state ∥ M the user by _id; M only for a token issued in the second
 *   of a "not before".
 * - end one session: M update ∥ R revocation entry. End all: M updateMany ∥ R "not before".
 */
export class SessionService {
  readonly #options: SessionServiceOptions

  readonly #audit: AuditRecorder

  constructor (options: SessionServiceOptions) {
    this.#options = options
    this.#audit = options.audit ?? NO_AUDIT
  }

  /** `appMetadata`: the user's, as the caller just read it with the user (the `app_metadata` claim) */
  async open (userId: string, amr: string[], client: ClientInfo, appMetadata: Metadata = {}): Promise<TokenPair> {
    const { sessions, refreshTokenKey, now } = this.#options
    const at = now()
    // the id first: the refresh token names its session
    const id = newSessionId(at)
    const refreshToken = newRefreshToken(refreshTokenKey, id)
    await sessions.create({
      id,
      userId,
      tokenHash: hashRefreshToken(refreshToken),
      amr,
      now: at,
      expiresAt: this.#expiry(id, at),
      userAgent: client.userAgent?.slice(0, 200) ?? null,
      ip: client.ip
    })
    return this.#pair({ sub: userId, sid: id, amr, auth_time: authTimeOf(id), app_metadata: appMetadata }, refreshToken)
  }

  /**
   * Rotates a refresh token; one used before, however long ago, ends its session (401 token_reused) and its
   * access tokens with it. Within the reuse grace, a used token gets the successor already handed out: the
   * successor is derived from the presented token, so the pair is the same for every parallel caller.
   */
  async refresh (presentedToken: string): Promise<TokenPair> {
    const metrics = this.#options.metrics ?? NO_METRICS
    try {
      const pair = await this.#rotate(presentedToken)
      metrics.sessionRefreshed('rotated')
      return pair
    } catch (error) {
      // a store failure is neither reuse nor an invalid token: store_errors_total counts it
      if (isAppError(error) && (error.code === 'token_reused' || error.code === 'unauthorized')) {
        metrics.sessionRefreshed(error.code === 'token_reused' ? 'reused' : 'invalid')
      }
      throw error
    }
  }

  async #rotate (presentedToken: string): Promise<TokenPair> {
    const { sessions, refreshTokenKey, reuseGraceSeconds, now } = this.#options
    const presented = parseRefreshToken(refreshTokenKey, presentedToken)
    if (presented === null) throw invalidRefreshToken()
    const at = now()
    const expiresAt = this.#expiry(presented.sessionId, at)
    // past its absolute lifetime, a session is over without asking the database
    if (expiresAt.getTime() <= at.getTime()) throw invalidRefreshToken()
    const refreshToken = successorRefreshToken(refreshTokenKey, presented)
    const newHash = hashRefreshToken(refreshToken)
    const result = await sessions.rotate({
      sessionId: presented.sessionId,
      generation: presented.generation,
      tokenHash: presented.tokenHash,
      newHash,
      now: at,
      expiresAt,
      graceSeconds: reuseGraceSeconds
    })
    if (result.outcome === 'invalid') throw invalidRefreshToken()
    if (result.outcome === 'reused') {
      this.#audit.record('refresh_token_reused', { userId: result.session.userId })
      await this.#revokeAccess(result.session.userId, result.session.id)
      throw new AppError('token_reused')
    }
    // the successor is the same for every caller; a session that moved on otherwise is a used token
    if (!sameHash(result.session.tokenHash, newHash)) throw new AppError('token_reused')
    const { userId, id, amr } = result.session
    // A status set by any path (AccountService.disable, or a write straight to the database that ended nothing):
    // the rotated pair is never signed, and the sessions it left live end here.
    const user = await this.#options.users.findById(userId)
    if (user?.status !== 'active') {
      await this.endAll(userId)
      throw inactiveAccount()
    }
    const claims = { sub: userId, sid: id, amr, auth_time: authTimeOf(id), app_metadata: user.appMetadata }
    return this.#pair(claims, refreshToken)
  }

  /**
   * Whether a verified access token still counts, and its user: 401 once its session or its user's sessions were
   * ended, or the user is no longer active (whatever path set the status). The user is read beside the revocation
   * state, so a route that needs the user reads it from here and not again.
   */
  async authenticate ({ sub, sid }: Pick<AccessTokenPayload, 'sub' | 'sid'>, issuedAtSeconds: number): Promise<User> {
    const { revocations, sessions, users, now } = this.#options
    const [verdict, found] = await Promise.allSettled([
      revocations.check(sub, sid, issuedAtSeconds), users.findById(sub)
    ])
    if (verdict.status === 'rejected') throw verdict.reason
    const live = verdict.value === 'live' || (verdict.value === 'undecided' && await sessions.isActive(sid, now()))
    // an ended session is a 401 even while MongoDB fails: only a token that may still count waits for the user
    if (!live) throw new AppError('unauthorized', { detail: 'The session has ended.' })
    if (found.status === 'rejected') throw found.reason
    const user = found.value
    if (user?.status !== 'active') throw inactiveAccount()
    return user
  }

  /** Logout: the access token's session, and the one of `refreshToken` when given (it must be the user's). */
  async logout ({ sub, sid }: Pick<AccessTokenPayload, 'sub' | 'sid'>, refreshToken?: string): Promise<void> {
    const { sessions, now } = this.#options
    const at = now()
    const presented = refreshToken ? parseRefreshToken(this.#options.refreshTokenKey, refreshToken) : null
    await Promise.all([
      sessions.revoke(sid, sub, at),
      this.#revokeAccess(sub, sid),
      presented && this.#endByRefreshToken(sub, presented, at)
    ])
    this.#audit.record('session_ended', { userId: sub, reason: 'logout' })
  }

  async #endByRefreshToken (userId: string, presented: PresentedRefreshToken, at: Date): Promise<void> {
    if (await this.#options.sessions.revokeByToken(presented, userId, at)) {
      await this.#revokeAccess(userId, presented.sessionId)
    }
  }

  /** Ends one of the user's sessions; false when it is not a live session of theirs. */
  async end (userId: string, sessionId: string): Promise<boolean> {
    const ended = await this.#options.sessions.revoke(sessionId, userId, this.#options.now())
    if (ended) await this.#revokeAccess(userId, sessionId)
    if (ended) this.#audit.record('session_ended', { userId, reason: 'end' })
    return ended
  }

  /**
   * Ends every live session of the user but `keepSessionId`, their access tokens with them (after a sign-in
   * identifier changed). Round trips: M list; then M update ∥ R revocation entry per session, all at once.
   */
  async endOthers (userId: string, keepSessionId: string): Promise<void> {
    const live = await this.#options.sessions.listActive(userId, this.#options.now())
    await Promise.all(live
      .filter((session) => session.id !== keepSessionId)
      .map((session) => this.end(userId, session.id)))
  }

  /** Ends every session of the user, and every access token issued until now (logout everywhere, disabled). */
  async endAll (userId: string): Promise<void> {
    const { sessions, revocations, accessTokenTtlSeconds, now } = this.#options
    const at = now()
    await Promise.all([sessions.revokeAll(userId, at), revocations.revokeUserBefore(userId, at, accessTokenTtlSeconds)])
    this.#audit.record('session_ended', { userId, reason: 'end_all' })
  }

  /** The sliding expiry after a use at `at`, never past the session's absolute end. */
  #expiry (sessionId: string, at: Date): Date {
    const { refreshTokenTtlSeconds, sessionIdleTimeoutSeconds, sessionMaxAgeSeconds } = this.#options
    const window = sessionIdleTimeoutSeconds > 0
      ? Math.min(refreshTokenTtlSeconds, sessionIdleTimeoutSeconds)
      : refreshTokenTtlSeconds
    const absoluteEnd = sessionStartOf(sessionId).getTime() + sessionMaxAgeSeconds * 1000
    return new Date(Math.min(at.getTime() + window * 1000, absoluteEnd))
  }

  #revokeAccess (userId: string, sessionId: string): Promise<void> {
    return this.#options.revocations.revokeSession(userId, sessionId, this.#options.accessTokenTtlSeconds)
  }

  async #pair (claims: Omit<AccessTokenPayload, 'jti'>, refreshToken: string): Promise<TokenPair> {
    return {
      accessToken: await this.#options.signAccessToken({ ...claims, jti: newTokenId() }),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.#options.accessTokenTtlSeconds
    }
  }
}

/** The session service as configured: lifetimes, idle timeout, reuse grace, from Config. */
export const createSessionService = (
  config: Config,
  deps: Pick<SessionServiceOptions, 'sessions' | 'users' | 'revocations' | 'signAccessToken' | 'refreshTokenKey' | 'now' | 'audit' | 'metrics'>
): SessionService => new SessionService({
  ...deps,
  accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
  sessionMaxAgeSeconds: config.SESSION_MAX_AGE_SECONDS,
  sessionIdleTimeoutSeconds: config.SESSION_IDLE_TIMEOUT_SECONDS,
  reuseGraceSeconds: config.REFRESH_REUSE_GRACE_SECONDS
})
