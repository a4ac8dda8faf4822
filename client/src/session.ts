import { OtpGateError } from './errors.ts'
import { crossTab, type CrossTab, type TabMessage } from './cross-tab.ts'
import type { TokenStorage } from './storage.ts'
import type { AuthChangeEvent, AuthChangeListener, StoredTokens, User } from './types.ts'

/** A token pair as the API answers it; without the refresh token when it went into the session cookie. */
export interface TokenPair { accessToken: string, refreshToken?: string, expiresIn: number }

export interface SessionOptions {
  storage: TokenStorage
  /** names the storage entry, the cross-tab lock and channel */
  key: string
  /** an access token this close to its expiry is refreshed before it is used */
  refreshMarginMs: number
  now: () => number
  /** POST /v1/auth/token/refresh, with the refresh token or (undefined) the session cookie; throws OtpGateError */
  rotate: (refreshToken: string | undefined) => Promise<TokenPair>
  /** session: 'cookie': nothing is known until the API is asked, with the cookie, on first use */
  cookie?: boolean
}

// how long a tab waits for the pair of a rotation another tab made before refreshing itself (the API's grace covers it)
const REPLACEMENT_WAIT_MS = 3000

const notSignedIn = () => new OtpGateError('not_signed_in', 401, 'No one is signed in on this client.')

// what tells one pair from the next: the refresh token, or the access token where the cookie holds the refresh token
const pairKey = (tokens: StoredTokens) => tokens.refreshToken === '' ? tokens.accessToken : tokens.refreshToken

/**
 * The client's tokens and the one refresh at a time: concurrent callers share one promise, tabs sharing the storage
 * take turns under a lock and re-read the storage first, so a refresh token is presented once, whoever asks.
 */
export class AuthSession {
  readonly #options: SessionOptions
  readonly #listeners = new Set<AuthChangeListener>()
  readonly #tabs: CrossTab | undefined
  #current: Promise<StoredTokens | null> | undefined
  #refreshing: Promise<StoredTokens> | undefined

  constructor (options: SessionOptions) {
    this.#options = options
    this.#current = options.cookie === true ? undefined : Promise.resolve(options.storage.get())
    const shared = options.storage.shared === true
    this.#tabs = shared ? crossTab(options.key, (message) => this.#fromOtherTab(message)) : undefined
  }

  tokens (): Promise<StoredTokens | null> {
    this.#current ??= this.#restore()
    return this.#current
  }

  /** An access token to send now: refreshed first when it is about to expire. */
  async accessToken (): Promise<string> {
    const tokens = await this.tokens()
    if (tokens === null) throw notSignedIn()
    if (tokens.expiresAt - this.#options.refreshMarginMs > this.#options.now()) return tokens.accessToken
    try {
      return (await this.refresh()).accessToken
    } catch (error) {
      // an API that cannot refresh right now does not spoil a token that still works
      const usable = error instanceof OtpGateError && error.status !== 401 && tokens.expiresAt > this.#options.now()
      if (usable) return tokens.accessToken
      throw error
    }
  }

  /** After the API refused `rejected`: the token someone refreshed meanwhile, or one refresh. */
  async accessTokenAfter (rejected: string): Promise<string> {
    const tokens = await this.tokens()
    if (tokens !== null && tokens.accessToken !== rejected) return tokens.accessToken
    return (await this.refresh()).accessToken
  }

  refresh (): Promise<StoredTokens> {
    this.#refreshing ??= this.#refreshOnce().finally(() => { this.#refreshing = undefined })
    return this.#refreshing
  }

  async signIn (pair: TokenPair, user: User | null): Promise<void> {
    await this.#publish({ type: 'signed_in', user }, this.#stored(pair))
  }

  async signOut (reason: 'logout' | 'session_ended'): Promise<void> {
    await this.#publish({ type: 'signed_out', reason }, null)
  }

  onChange (listener: AuthChangeListener): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  close (): void {
    this.#tabs?.close()
  }

  /**
   * session: 'cookie' after a reload: one refresh with the cookie says whether someone is signed in (a 401: no one).
   * Tabs take turns under the lock, so each presents the cookie the one before left.
   */
  #restore (): Promise<StoredTokens | null> {
    const ask = async (): Promise<StoredTokens | null> => {
      try {
        const tokens = this.#stored(await this.#options.rotate(undefined))
        await this.#options.storage.set(tokens)
        return tokens
      } catch (error) {
        if (error instanceof OtpGateError && error.status === 401) return null
        this.#current = undefined // asked again on next use
        throw error
      }
    }
    return this.#tabs === undefined ? ask() : this.#tabs.exclusive(ask)
  }

  async #refreshOnce (): Promise<StoredTokens> {
    const known = await this.tokens()
    if (known === null) throw notSignedIn()
    const tabs = this.#tabs
    return tabs === undefined ? this.#rotate(known) : tabs.exclusive(() => this.#rotateShared(known, tabs))
  }

  async #rotateShared (known: StoredTokens, tabs: CrossTab): Promise<StoredTokens> {
    // another tab may have refreshed (or signed out) while this one waited for the lock; its pair may still be on
    // its way here, so a token on record as rotated waits for it
    const rotated = await tabs.wasRotated(pairKey(known))
    const stored = rotated ? await this.#replacementOf(known) : await this.#options.storage.get()
    if (stored !== null && pairKey(stored) === pairKey(known)) {
      const tokens = await this.#rotate(known)
      await tabs.markRotated(pairKey(known))
      return tokens
    }
    this.#current = Promise.resolve(stored)
    if (stored === null) throw notSignedIn()
    return stored
  }

  /** What replaced `known` in the storage or in a message from another tab; `known` itself if nothing came soon. */
  async #replacementOf (known: StoredTokens): Promise<StoredTokens | null> {
    const deadline = Date.now() + REPLACEMENT_WAIT_MS
    for (;;) {
      const [stored, current] = await Promise.all([this.#options.storage.get(), this.tokens()])
      const replacement = [stored, current].find((tokens) => tokens === null || pairKey(tokens) !== pairKey(known))
      if (replacement !== undefined || Date.now() >= deadline) return replacement ?? known
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  async #rotate (known: StoredTokens): Promise<StoredTokens> {
    let pair: TokenPair
    try {
      pair = await this.#options.rotate(known.refreshToken === '' ? undefined : known.refreshToken)
    } catch (error) {
      // refused (reused, ended, expired): the session is over here too; anything else may pass
      if (error instanceof OtpGateError && error.status === 401) await this.signOut('session_ended')
      throw error
    }
    const tokens = this.#stored(pair)
    await this.#publish({ type: 'refreshed' }, tokens)
    return tokens
  }

  #stored (pair: TokenPair): StoredTokens {
    const expiresAt = this.#options.now() + pair.expiresIn * 1000
    // with the cookie, a refresh token in a body (an API that does not see a browser) is not kept either
    const refreshToken = this.#options.cookie === true ? '' : pair.refreshToken ?? ''
    return { accessToken: pair.accessToken, refreshToken, expiresAt }
  }

  async #publish (event: AuthChangeEvent, tokens: StoredTokens | null): Promise<void> {
    this.#current = Promise.resolve(tokens)
    await this.#options.storage.set(tokens)
    this.#tabs?.post({ event, tokens })
    this.#emit(event)
  }

  #fromOtherTab ({ event, tokens }: TabMessage): void {
    this.#current = Promise.resolve(tokens)
    this.#emit(event)
  }

  #emit (event: AuthChangeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // one listener's failure is not the session's
      }
    }
  }
}
