import type { AuthChangeEvent, StoredTokens } from './types.ts'

/** What one tab tells the others of the origin: what happened, and the pair it now holds (null: signed out). */
export interface TabMessage {
  event: AuthChangeEvent
  tokens: StoredTokens | null
}

export interface CrossTab {
  /** Runs `task` while no other tab of the origin runs one under this name (Web Locks); at once where absent. */
  exclusive<T>(task: () => Promise<T>): Promise<T>
  /** Records, where every tab sees it at once, that this tab has just rotated `refreshToken`. */
  markRotated(refreshToken: string): Promise<void>
  /** Whether a tab rotated `refreshToken` within the last minute. */
  wasRotated(refreshToken: string): Promise<boolean>
  /** Hands the new state to the other tabs. */
  post(message: TabMessage): void
  close(): void
}

// the browser APIs used, typed here so that the package does not need the DOM library to compile
interface LockManager {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>
  request<T>(name: string, options: { mode: 'shared' }, callback: () => Promise<T>): Promise<T>
  query(): Promise<{ held?: Array<{ name?: string }> }>
}
interface Channel {
  postMessage(message: unknown): void
  close(): void
  onmessage: ((event: { data: unknown }) => void) | null
  unref?: () => void
}
interface StorageEventLike { key: string | null, newValue: string | null, oldValue: string | null }
interface Browser {
  navigator?: { locks?: LockManager }
  BroadcastChannel?: new (name: string) => Channel
  addEventListener?: (type: 'storage', listener: (event: StorageEventLike) => void) => void
  removeEventListener?: (type: 'storage', listener: (event: StorageEventLike) => void) => void
}

// how long a rotation stays on record: far longer than a pair takes to reach the other tabs
const ROTATION_RECORD_MS = 60_000

// c8 cannot see what follows run: Web Locks, BroadcastChannel between tabs and storage events exist only in
// browsers, so test/demo-browser.test.ts exercises them in Chromium (two tabs, one refresh)
/* c8 ignore start */
/** A name for a refresh token that does not disclose it. */
async function fingerprint (refreshToken: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(refreshToken))
  return Array.from(new Uint8Array(digest).slice(0, 16), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

const holdFor = (ms: number) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms) as { unref?: () => void }
  timer.unref?.() // Node: a record must not keep the process alive
})

const parse = (value: string | null): StoredTokens | null => {
  try {
    return JSON.parse(value ?? 'null') as StoredTokens | null
  } catch {
    return null
  }
}

/**
 * Coordination between tabs sharing one token storage (`key`): refreshes take turns under a Web Lock, and each
 * new pair is handed to the other tabs on a BroadcastChannel; where BroadcastChannel is missing, the `storage`
 * event of localStorage tells them instead. Without Web Locks, the API's reuse grace keeps parallel refreshes safe.
 */
export function crossTab (key: string, onMessage: (message: TabMessage) => void): CrossTab {
  const browser = globalThis as unknown as Browser
  const locks = browser.navigator?.locks
  const name = `otp-gate:${key}`

  let channel: Channel | undefined
  let onStorage: ((event: StorageEventLike) => void) | undefined
  if (browser.BroadcastChannel !== undefined) {
    channel = new browser.BroadcastChannel(name)
    channel.onmessage = (event) => onMessage(event.data as TabMessage)
    channel.unref?.() // Node: an open channel must not keep the process alive
  } else if (browser.addEventListener !== undefined) {
    onStorage = (event) => {
      if (event.key !== key || event.newValue === event.oldValue) return
      const tokens = parse(event.newValue)
      const change: AuthChangeEvent = tokens === null
        ? { type: 'signed_out', reason: 'session_ended' }
        : event.oldValue === null ? { type: 'signed_in', user: null } : { type: 'refreshed' }
      onMessage({ event: change, tokens })
    }
    browser.addEventListener('storage', onStorage)
  }

  // localStorage and BroadcastChannel reach other tabs a moment later; the lock manager answers every tab alike,
  // so a rotation is also recorded as a held lock, and a tab that finds its token rotated waits for the new pair
  const rotationLock = async (refreshToken: string) => `${name}:rotated:${await fingerprint(refreshToken)}`

  return {
    exclusive: (task) => locks === undefined ? task() : locks.request(`${name}:refresh`, task),
    async markRotated (refreshToken) {
      if (locks === undefined) return
      const lock = await rotationLock(refreshToken)
      let granted = () => {}
      const grant = new Promise<void>((resolve) => { granted = resolve })
      locks.request(lock, { mode: 'shared' }, () => {
        granted()
        return holdFor(ROTATION_RECORD_MS)
      }).catch(() => {})
      await grant
    },
    async wasRotated (refreshToken) {
      if (locks === undefined) return false
      const lock = await rotationLock(refreshToken)
      return ((await locks.query()).held ?? []).some((held) => held.name === lock)
    },
    post: (message) => channel?.postMessage(message),
    close () {
      channel?.close()
      if (onStorage !== undefined) browser.removeEventListener?.('storage', onStorage)
    }
  }
}
/* c8 ignore stop */
