export interface OutboxMessage {
  /** the normalised destination, as delivered */
  to: string
  channel: 'email' | 'sms'
  code: string
  /** the SMS text, or the email's text body */
  text: string
  /** ISO 8601 */
  sentAt: string
}

export const OUTBOX_MAX_MESSAGES = 100
export const OUTBOX_TTL_SECONDS = 3600

export interface OutboxOptions {
  /** messages kept per destination, the oldest dropped first (default 100) */
  maxMessages?: number
  /** how long a destination's messages live after its last message (default 1 h) */
  ttlSeconds?: number
}

/**
 * The dev outbox: where codes go with DEV_OUTBOX=true, or in the embedded mode when a channel has no provider,
 * so a developer or an end-to-end test can read them back.
 *
 * Contract, held by every adapter (test/contract/outbox.ts):
 * - `list(to)` returns that destination's messages newest first, exactly as added; an unknown destination gives [].
 * - only the last `maxMessages` messages of a destination are kept.
 * - each `add` gives the destination's messages `ttlSeconds` more to live; after that, `list` returns [].
 * - `remove(to)` forgets that destination's messages at once: `list(to)` then returns [].
 * - destinations never see each other's messages; `to` is matched exactly, so callers normalise it first.
 */
export interface Outbox {
  add (message: OutboxMessage): Promise<void>
  list (to: string): Promise<OutboxMessage[]>
  /** Forgets every message of the destination (an account's erasure); nothing to forget is no error. */
  remove (to: string): Promise<void>
}
