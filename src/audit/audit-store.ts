import type { AuditEvent } from './audit-event.ts'

/** A position in a user's events, newest first: the events strictly older than this one. */
export interface AuditPosition { at: Date, id: string }

/**
 * Where security events are kept: MongoDB (`audit_events`) or this process (the embedded mode). Each store lets
 * events older than its retention go by itself: MongoDB through a TTL index on `at`, the memory store as it is used.
 *
 * - `init`: creates what the store needs (indexes; on MongoDB the TTL index, or its new expiry).
 * - `insertMany`: stores every event it can; one that fails does not stop the others (unordered); rejects when
 *   any failed.
 * - `deleteByUser(userId)`: deletes every event of that user (an account's erasure), returns how many; others stay.
 * - `listByUser(userId, limit, after)`: at most `limit` events of that user, newest first (by `at`, then by id,
 *   both descending), only those after `after` in that order when given. Never another user's.
 */
export interface AuditStore {
  init (): Promise<void>
  insertMany (events: readonly AuditEvent[]): Promise<void>
  listByUser (userId: string, limit: number, after: AuditPosition | null): Promise<AuditEvent[]>
  deleteByUser (userId: string): Promise<number>
}

/** Newest first: by time, then by id. */
export const newestFirst = (a: AuditPosition, b: AuditPosition): number =>
  b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
