import type { StoredTokens } from './types.ts'

/**
 * Where the client keeps its tokens. May be asynchronous (a native app's secure store). `shared` says that other
 * tabs of the origin see the same tokens (localStorage): the client then refreshes under a cross-tab lock.
 */
export interface TokenStorage {
  get(): StoredTokens | null | Promise<StoredTokens | null>
  set(tokens: StoredTokens | null): void | Promise<void>
  readonly shared?: boolean
}

/** The default: tokens live in this page's memory and are gone on reload; nothing on disk for a script to read. */
export function memoryStorage (): TokenStorage {
  let tokens: StoredTokens | null = null
  return {
    get: () => tokens,
    set: (next) => { tokens = next }
  }
}

interface WebStorage {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

const isTokens = (value: unknown): value is StoredTokens => {
  const tokens = value as StoredTokens | null
  return typeof tokens?.accessToken === 'string' && typeof tokens.refreshToken === 'string' &&
    typeof tokens.expiresAt === 'number'
}

// c8 cannot see this run: it needs localStorage, so test/demo-browser.test.ts exercises it in Chromium
/* c8 ignore start */
/** `storage: 'local'`: tokens in localStorage under `key`, shared by the origin's tabs and readable by its scripts. */
export function localTokenStorage (key: string): TokenStorage {
  const store = (globalThis as { localStorage?: WebStorage }).localStorage
  if (store === undefined) throw new TypeError("storage: 'local' needs localStorage (a browser)")
  return {
    shared: true,
    get () {
      try {
        const value: unknown = JSON.parse(store.getItem(key) ?? 'null')
        return isTokens(value) ? value : null
      } catch {
        return null
      }
    },
    set (tokens) {
      if (tokens === null) store.removeItem(key)
      else store.setItem(key, JSON.stringify(tokens))
    }
  }
}
/* c8 ignore stop */
