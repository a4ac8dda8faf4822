import { OUTBOX_MAX_MESSAGES, OUTBOX_TTL_SECONDS, type Outbox, type OutboxMessage, type OutboxOptions } from './outbox.ts'

export interface MemoryOutboxOptions extends OutboxOptions {
  /** epoch milliseconds; tests inject a clock to expire messages without waiting */
  now?: () => number
}

/** Outbox in this process, for the embedded mode and tests. Contract in outbox.ts. */
export class MemoryOutbox implements Outbox {
  readonly #entries = new Map<string, { messages: OutboxMessage[], expiresAt: number }>()
  readonly #now: () => number
  readonly #maxMessages: number
  readonly #ttlMs: number

  constructor (options: MemoryOutboxOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#maxMessages = options.maxMessages ?? OUTBOX_MAX_MESSAGES
    this.#ttlMs = (options.ttlSeconds ?? OUTBOX_TTL_SECONDS) * 1000
  }

  async add (message: OutboxMessage): Promise<void> {
    const now = this.#now()
    // destinations nobody reads again must not pile up for the life of the process
    for (const [to, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(to)
    const previous = this.#entries.get(message.to)?.messages ?? []
    const messages = [{ ...message }, ...previous].slice(0, this.#maxMessages)
    this.#entries.set(message.to, { messages, expiresAt: now + this.#ttlMs })
  }

  async list (to: string): Promise<OutboxMessage[]> {
    const entry = this.#entries.get(to)
    if (entry === undefined || entry.expiresAt <= this.#now()) return []
    return entry.messages.map((message) => ({ ...message }))
  }

  async remove (to: string): Promise<void> {
    this.#entries.delete(to)
  }
}
