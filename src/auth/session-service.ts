import { AppError } from '../errors.ts'
import type { SessionRepository } from '../sessions/session-repository.ts'
import type { RevocationStore } from '../sessions/revocation-store.ts'
import { hashRefreshToken, newRefreshToken, newSessionId, parseRefreshToken } from '../sessions/tokens.ts'

/** What an access token says, as this service signs it (iss, aud and exp are added by the signer). */
export interface AccessTokenPayload { sub: string, sid: string, amr: string[] }

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
  revocations: RevocationStore
  signAccessToken: (payload: AccessTokenPayload) => Promise<string>
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
  now: () => Date
}

const invalidRefreshToken = () => new AppError('unauthorized', { detail: 'The refresh token is not valid.' })

/**
 * Sessions as the API offers them: open, refresh, end, and whether an access token still counts.
 * Round trips (M = MongoDB, R = Redis), each line one sequential level:
 * - open: M insert.
 * - refresh: M findOneAndUpdate (the compare-and-swap); only a miss reads again (and a reuse revokes: M + R).
 * - authenticate: R one MGET of the revocation state; M only for a token issued in the second of a "not before".
 * - end one session: M update ∥ R revocation entry. End all: M updateMany ∥ R "not before".
 */
export class SessionService {
  readonly #options: SessionServiceOptions

  constructor (options: SessionServiceOptions) {
    this.#options = options
  }

  async open (userId: string, amr: string[], client: ClientInfo): Promise<TokenPair> {
    const { sessions, refreshTokenTtlSeconds, now } = this.#options
    // the id first: the refresh token names its session
    const id = newSessionId()
    const refreshToken = newRefreshToken(id)
    const at = now()
    await sessions.create({
      id,
      userId,
      tokenHash: hashRefreshToken(refreshToken),
      amr,
      now: at,
      expiresAt: new Date(at.getTime() + refreshTokenTtlSeconds * 1000),
      userAgent: client.userAgent?.slice(0, 200) ?? null,
      ip: client.ip
    })
    return this.#pair({ sub: userId, sid: id, amr }, refreshToken)
  }

  /** Rotates a refresh token; a used one ends its session (401 token_reused) and its access tokens with it. */
  async refresh (presentedToken: string): Promise<TokenPair> {
    const { sessions, refreshTokenTtlSeconds, now } = this.#options
    const presented = parseRefreshToken(presentedToken)
    if (presented === null) throw invalidRefreshToken()
    const refreshToken = newRefreshToken(presented.sessionId)
    const newHash = hashRefreshToken(refreshToken)
    const at = now()
    const result = await sessions.rotate({
      ...presented,
      newHash,
      now: at,
      expiresAt: new Date(at.getTime() + refreshTokenTtlSeconds * 1000),
      // no grace window: of parallel refreshes with one token exactly one wins, the others end the session
      graceSeconds: 0
    })
    if (result.outcome === 'invalid') throw invalidRefreshToken()
    if (result.outcome === 'reused') {
      await this.#revokeAccess(result.session.userId, result.session.id)
      throw new AppError('token_reused')
    }
    // only the caller whose swap landed holds the successor; anyone else is presenting a used token
    if (result.session.tokenHash !== newHash) throw new AppError('token_reused')
    const { userId, id, amr } = result.session
    return this.#pair({ sub: userId, sid: id, amr }, refreshToken)
  }

  /** Whether a verified access token still counts: 401 once its session or its user's sessions were ended. */
  async authenticate ({ sub, sid }: AccessTokenPayload, issuedAtSeconds: number): Promise<void> {
    const { revocations, sessions, now } = this.#options
    const verdict = await revocations.check(sub, sid, issuedAtSeconds)
    if (verdict === 'live') return
    if (verdict === 'undecided' && await sessions.isActive(sid, now())) return
    throw new AppError('unauthorized', { detail: 'The session has ended.' })
  }

  /** Logout: the access token's session, and the one of `refreshToken` when given (it must be the user's). */
  async logout ({ sub, sid }: AccessTokenPayload, refreshToken?: string): Promise<void> {
    const { sessions, now } = this.#options
    const at = now()
    const presented = refreshToken ? parseRefreshToken(refreshToken) : null
    await Promise.all([
      sessions.revoke(sid, sub, at),
      this.#revokeAccess(sub, sid),
      presented && this.#endByRefreshToken(sub, presented.sessionId, presented.tokenHash, at)
    ])
  }

  async #endByRefreshToken (userId: string, sessionId: string, tokenHash: string, at: Date): Promise<void> {
    if (await this.#options.sessions.revokeByTokenHash(sessionId, tokenHash, userId, at)) await this.#revokeAccess(userId, sessionId)
  }

  /** Ends one of the user's sessions; false when it is not a live session of theirs. */
  async end (userId: string, sessionId: string): Promise<boolean> {
    const ended = await this.#options.sessions.revoke(sessionId, userId, this.#options.now())
    if (ended) await this.#revokeAccess(userId, sessionId)
    return ended
  }

  /** Ends every session of the user, and every access token issued until now (logout everywhere, disabled). */
  async endAll (userId: string): Promise<void> {
    const { sessions, revocations, accessTokenTtlSeconds, now } = this.#options
    const at = now()
    await Promise.all([sessions.revokeAll(userId, at), revocations.revokeUserBefore(userId, at, accessTokenTtlSeconds)])
  }

  #revokeAccess (userId: string, sessionId: string): Promise<void> {
    return this.#options.revocations.revokeSession(userId, sessionId, this.#options.accessTokenTtlSeconds)
  }

  async #pair (payload: AccessTokenPayload, refreshToken: string): Promise<TokenPair> {
    return {
      accessToken: await this.#options.signAccessToken(payload),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.#options.accessTokenTtlSeconds
    }
  }
}
