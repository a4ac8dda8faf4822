import type { AuditEvent } from './audit-event.ts'

/** A position in a user's events, newest first: the events strictly older than this one. */
export interface AuditPosition { at: Date, id: string }

/**
 * Where security events are kept: MongoDB (`audit_events`) or this process (the embedded mode).
 *
 * - `init`: creates what the store needs (indexes; on MongoDB a TTL index of `retentionMs` on `at`).
 * - `insertMany`: stores every event it can; one that fails does not stop the others (unordered); rejects when
 *   any failed.
 * - `listByUser(userId, limit, after)`: at most `limit` events of that user, newest first (by `at`, then by id,
 *   both descending), only those after `after` in that order when given. Never another user's.
 * - `deleteOlderThan(cutoff)`: removes events with `at` before cutoff, answers how many (for servers without TTL
 *   indexes, and the memory store).
 */
export interface AuditStore {
  init (): Promise<void>
  insertMany (events: readonly AuditEvent[]): Promise<void>
  listByUser (userId: string, limit: number, after: AuditPosition | null): Promise<AuditEvent[]>
  deleteOlderThan (cutoff: Date): Promise<number>
}

/** Newest first: by time, then by id. */
export const newestFirst = (a: AuditPosition, b: AuditPosition): number =>
  b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
