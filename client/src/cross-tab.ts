import type { AuthChangeEvent, StoredTokens } from './types.ts'

/** What one tab tells the others of the origin: what happened, and the pair it now holds (null: signed out). */
export interface TabMessage {
  event: AuthChangeEvent
  tokens: StoredTokens | null
}

export interface CrossTab {
  /** Runs `task` while no other tab of the origin runs one under this name (Web Locks); at once where absent. */
  exclusive<T>(task: () => Promise<T>): Promise<T>
  /** Hands the new state to the other tabs. */
  post(message: TabMessage): void
  close(): void
}

// the browser APIs used, typed here so that the package does not need the DOM library to compile
interface LockManager { request<T>(name: string, callback: () => Promise<T>): Promise<T> }
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

  return {
    exclusive: (task) => locks === undefined ? task() : locks.request(`${name}:refresh`, task),
    post: (message) => channel?.postMessage(message),
    close () {
      channel?.close()
      if (onStorage !== undefined) browser.removeEventListener?.('storage', onStorage)
    }
  }
}
