import { createHash, createHmac } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { OUTBOX_MAX_MESSAGES, OUTBOX_TTL_SECONDS, type Outbox, type OutboxMessage, type OutboxOptions } from './outbox.ts'

export interface RedisOutboxOptions extends OutboxOptions {
  /** e.g. `outbox:`; the rest of the key is a hash of the destination */
  keyPrefix?: string
  /** when given, key names are an HMAC of the destination, which a dictionary of emails cannot reverse */
  keySecret?: string | undefined
}

/**
 * Outbox in Redis: one list per destination, newest first. Contract in outbox.ts.
 * Key names carry a hash of the destination, never the address or number itself.
 */
export class RedisOutbox implements Outbox {
  readonly #redis: Redis | Cluster
  readonly #keyPrefix: string
  readonly #keySecret: string | undefined
  readonly #maxMessages: number
  readonly #ttlSeconds: number

  constructor (redis: Redis | Cluster, options: RedisOutboxOptions = {}) {
    this.#redis = redis
    this.#keyPrefix = options.keyPrefix ?? 'outbox:'
    this.#keySecret = options.keySecret
    this.#maxMessages = options.maxMessages ?? OUTBOX_MAX_MESSAGES
    this.#ttlSeconds = options.ttlSeconds ?? OUTBOX_TTL_SECONDS
  }

  keyFor (to: string): string {
    const hash = this.#keySecret === undefined ? createHash('sha256') : createHmac('sha256', this.#keySecret)
    return this.#keyPrefix + hash.update(to).digest('base64url')
  }

  async remove (to: string): Promise<void> {
    await this.#redis.del(this.keyFor(to))
  }

  async add (message: OutboxMessage): Promise<void> {
    const key = this.keyFor(message.to)
    // one transaction on one key, so it also holds on a Cluster
    const results = await this.#redis.multi()
      .lpush(key, JSON.stringify(message))
      .ltrim(key, 0, this.#maxMessages - 1)
      .expire(key, this.#ttlSeconds)
      .exec()
    if (results === null) throw new Error('outbox transaction aborted')
    const failure = results.find(([error]) => error !== null)?.[0]
    if (failure) throw failure
  }

  async list (to: string): Promise<OutboxMessage[]> {
    const items = await this.#redis.lrange(this.keyFor(to), 0, -1)
    return items.map((item) => JSON.parse(item) as OutboxMessage)
  }
}
