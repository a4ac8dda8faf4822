import { ExpiringMap } from '../otp/expiring-map.ts'
import type { StoredUndo, IdentifierUndoStore } from './identifier-undo-store.ts'

/** IdentifierUndoStore in process memory, for the embedded mode; entries lapse on the injected clock. */
export class MemoryIdentifierUndoStore implements IdentifierUndoStore {
  readonly #entries: ExpiringMap<StoredUndo>

  constructor ({ now }: { now: () => number }) {
    this.#entries = new ExpiringMap(now)
  }

  async put (key: string, undo: StoredUndo, ttlSeconds: number): Promise<void> {
    // identifier changes are rare: a sweep per change keeps memory bounded by the links of the last 7 days
    this.#entries.sweep()
    this.#entries.set(key, { ...undo }, ttlSeconds * 1000)
  }

  async take (key: string): Promise<StoredUndo | null> {
    const undo = this.#entries.get(key)
    this.#entries.delete(key)
    return undo === undefined ? null : { ...undo }
  }
}
