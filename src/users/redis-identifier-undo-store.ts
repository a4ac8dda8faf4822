import type { Cluster, Redis } from 'ioredis'
import type { StoredUndo, IdentifierUndoStore } from './identifier-undo-store.ts'

/** IdentifierUndoStore on Redis: one key per link, SET with EX, taken with GETDEL (atomic, one slot). */
export class RedisIdentifierUndoStore implements IdentifierUndoStore {
  readonly #redis: Redis | Cluster
  readonly #prefix: string

  constructor (redis: Redis | Cluster, { keyPrefix = 'identifier-undo:' }: { keyPrefix?: string } = {}) {
    this.#redis = redis
    this.#prefix = keyPrefix
  }

  async put (key: string, undo: StoredUndo, ttlSeconds: number): Promise<void> {
    await this.#redis.set(`${this.#prefix}${key}`, JSON.stringify(undo), 'EX', ttlSeconds)
  }

  async take (key: string): Promise<StoredUndo | null> {
    const stored = await this.#redis.getdel(`${this.#prefix}${key}`)
    return stored === null ? null : JSON.parse(stored) as StoredUndo
  }
}
