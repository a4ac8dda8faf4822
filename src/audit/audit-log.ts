import { randomBytes } from '../random-bytes.ts'
import { AppError } from '../errors.ts'
import { maskDestination } from '../delivery/mask.ts'
import type { AuditContext, AuditEvent, AuditEventType, AuditFields } from './audit-event.ts'
import type { AuditPosition, AuditStore } from './audit-store.ts'

export interface AuditLogOptions {
  store: AuditStore
  now: () => Date
  /** the current request's client and id (the HTTP layer keeps it per request); undefined outside a request */
  context: () => AuditContext | undefined
  /** events waiting to be written at most; more are dropped and counted */
  maxBuffered?: number
  /** events per insert at most; a full batch is written at once */
  batchSize?: number
  /** a batch that is not full is written after this long */
  flushIntervalMs?: number
  /** each written batch, e.g. to queue its webhook deliveries; a rejection is counted, not thrown */
  onBatch?: ((events: readonly AuditEvent[]) => Promise<void>) | undefined
  /** a write or onBatch failed */
  onError?: ((error: unknown, what: 'write' | 'batch') => void) | undefined
}

export interface AuditLogStats {
  recorded: number
  written: number
  /** recorded while the buffer was full */
  dropped: number
  /** in batches the store refused */
  failed: number
}

export interface ActivityPage { events: AuditEvent[], nextCursor: string | null }

const CURSOR = /^(\d{1,15})\.([0-9a-f]{24})$/

/** An opaque cursor: the position of the last event of a page. */
export const encodeCursor = (position: AuditPosition): string =>
  Buffer.from(`${position.at.getTime()}.${position.id}`).toString('base64url')

export function decodeCursor (cursor: string): AuditPosition {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (match === null) throw new AppError('bad_request', { detail: 'The cursor is not valid; use the nextCursor of a previous page.' })
  return { at: new Date(Number(match[1])), id: match[2]! }
}

/**
 * The security activity log. `record` only appends to a bounded buffer: no request waits on a write, and when
 * the buffer is full an event is dropped and counted. Batches are written unordered, when full or after
 * flushIntervalMs, one at a time; a failed batch is counted and logged, never thrown. `close` writes what is left.
 * Reading a user's activity first writes what this process holds, so a user sees what they just did.
 */
export class AuditLog {
  readonly #options: Required<Omit<AuditLogOptions, 'onBatch' | 'onError'>> & AuditLogOptions
  readonly #onError: NonNullable<AuditLogOptions['onError']>
  #buffer: AuditEvent[] = []
  #timer: NodeJS.Timeout | undefined
  #writing: Promise<void> = Promise.resolve()
  readonly #stats: AuditLogStats = { recorded: 0, written: 0, dropped: 0, failed: 0 }

  constructor (options: AuditLogOptions) {
    this.#options = { maxBuffered: 10_000, batchSize: 500, flushIntervalMs: 200, ...options }
    this.#onError = options.onError ?? (() => {})
  }

  /** Records an event of the current request; never throws, never waits. */
  record (type: AuditEventType, fields: AuditFields = {}): void {
    this.#stats.recorded++
    if (this.#buffer.length >= this.#options.maxBuffered) {
      this.#stats.dropped++
      return
    }
    const context = this.#options.context()
    this.#buffer.push({
      id: randomBytes(12).toString('hex'),
      type,
      userId: fields.userId ?? null,
      identifier: fields.identifier ? maskDestination(fields.identifier) : null,
      ip: context?.ip ?? null,
      userAgent: context?.userAgent?.slice(0, 200) ?? null,
      requestId: context?.requestId ?? null,
      at: this.#options.now(),
      amr: fields.amr ? [...fields.amr] : null,
      reason: fields.reason ?? null,
      actor: fields.actor ?? null
    })
    if (this.#buffer.length >= this.#options.batchSize) this.#schedule(0)
    else this.#schedule(this.#options.flushIntervalMs)
  }

  /** Writes every event recorded so far; resolves once written (or counted as failed). */
  flush (): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#options.batchSize)
      this.#writing = this.#writing.then(() => this.#write(batch))
    }
    return this.#writing
  }

  /** The user's own events, newest first; `cursor` is a previous page's nextCursor (bad_request otherwise). */
  async list (
    userId: string, { limit, cursor }: { limit: number, cursor?: string | undefined }
  ): Promise<ActivityPage> {
    const after = cursor === undefined ? null : decodeCursor(cursor)
    await this.flush()
    // one more than asked tells whether a next page exists
    const events = await this.#options.store.listByUser(userId, limit + 1, after)
    const page = events.slice(0, limit)
    const last = page.at(-1)
    return { events: page, nextCursor: events.length > limit && last ? encodeCursor(last) : null }
  }

  /**
   * An account's erasure: every event of the user is deleted, those still buffered included (written first, then
   * deleted with the rest), so nothing keeps the identifiers, IPs and user agents they held.
   */
  async eraseUser (userId: string): Promise<void> {
    await this.flush()
    await this.#options.store.deleteByUser(userId)
  }

  stats (): AuditLogStats {
    return { ...this.#stats }
  }

  async close (): Promise<void> {
    await this.flush()
  }

  #schedule (delayMs: number): void {
    if (this.#timer !== undefined && delayMs > 0) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => { this.flush().catch(() => {}) }, delayMs)
    this.#timer.unref()
  }

  async #write (batch: AuditEvent[]): Promise<void> {
    try {
      await this.#options.store.insertMany(batch)
      this.#stats.written += batch.length
    } catch (error) {
      // unordered: the driver says how many of the batch went in nonetheless
      const inserted = Number((error as { insertedCount?: unknown }).insertedCount ?? 0) || 0
      this.#stats.written += inserted
      this.#stats.failed += batch.length - inserted
      this.#onError(error, 'write')
    }
    try {
      await this.#options.onBatch?.(batch)
    } catch (error) {
      this.#onError(error, 'batch')
    }
  }
}
