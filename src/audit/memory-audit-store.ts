import type { AuditEvent } from './audit-event.ts'
import { newestFirst, type AuditPosition, type AuditStore } from './audit-store.ts'

/** Events kept in this process at most; the oldest go first. */
const MAX_EVENTS = 100_000

export interface MemoryAuditStoreOptions {
  /** how long events are kept (AUDIT_RETENTION_DAYS) */
  retentionMs: number
  /** the clock the retention is read on, epoch ms */
  now?: () => number
}

/** AuditStore in this process, for the embedded mode and tests. Contract in audit-store.ts. */
export class MemoryAuditStore implements AuditStore {
  readonly #events: AuditEvent[] = []
  readonly #retentionMs: number
  readonly #now: () => number

  constructor ({ retentionMs, now = Date.now }: MemoryAuditStoreOptions) {
    this.#retentionMs = retentionMs
    this.#now = now
  }

  async init (): Promise<void> {}

  async insertMany (events: readonly AuditEvent[]): Promise<void> {
    this.#dropExpired()
    const ids = new Set(this.#events.map((event) => event.id))
    const fresh = events.filter((event) => !ids.has(event.id) && ids.add(event.id))
    this.#events.push(...fresh.map((event) => ({ ...event, amr: event.amr && [...event.amr] })))
    if (this.#events.length > MAX_EVENTS) this.#events.splice(0, this.#events.length - MAX_EVENTS)
    if (fresh.length < events.length) throw Object.assign(new Error('duplicate audit event id'), { insertedCount: fresh.length })
  }

  async listByUser (userId: string, limit: number, after: AuditPosition | null): Promise<AuditEvent[]> {
    this.#dropExpired()
    return this.#events
      .filter((event) => event.userId === userId && (after === null || newestFirst(after, event) < 0))
      .sort(newestFirst)
      .slice(0, limit)
      .map((event) => ({ ...event }))
  }

  async deleteByUser (userId: string): Promise<number> {
    const kept = this.#events.filter((event) => event.userId !== userId)
    const deleted = this.#events.length - kept.length
    this.#events.splice(0, this.#events.length, ...kept)
    return deleted
  }

  /** What MongoDB's TTL index does for its store. */
  #dropExpired (): void {
    const cutoff = this.#now() - this.#retentionMs
    const kept = this.#events.filter((event) => event.at.getTime() >= cutoff)
    if (kept.length < this.#events.length) this.#events.splice(0, this.#events.length, ...kept)
  }
}
