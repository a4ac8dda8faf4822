import type { Cluster, Redis } from 'ioredis'
import { revocationVerdict, type RevocationStore, type RevocationVerdict } from './revocation-store.ts'

/**
 * RevocationStore on Redis. A user's keys share the `{userId}` hash tag, so `check` is one MGET on one slot,
 * Redis Cluster included. User and session ids are opaque, non-personal ids.
 */
export class RedisRevocationStore implements RevocationStore {
  readonly #redis: Redis | Cluster
  readonly #prefix: string

  constructor (redis: Redis | Cluster, { keyPrefix = 'revoked:' }: { keyPrefix?: string } = {}) {
    this.#redis = redis
    this.#prefix = keyPrefix
  }

  #sessionKey (userId: string, sessionId: string) { return `${this.#prefix}{${userId}}:session:${sessionId}` }
  #userKey (userId: string) { return `${this.#prefix}{${userId}}:not-before` }

  async revokeSession (userId: string, sessionId: string, ttlSeconds: number): Promise<void> {
    await this.#redis.set(this.#sessionKey(userId, sessionId), '1', 'EX', ttlSeconds)
  }

  async revokeUserBefore (userId: string, at: Date, ttlSeconds: number): Promise<void> {
    await this.#redis.set(this.#userKey(userId), String(at.getTime()), 'EX', ttlSeconds)
  }

  async check (userId: string, sessionId: string, issuedAtSeconds: number): Promise<RevocationVerdict> {
    const [ended, notBefore] = await this.#redis.mget(this.#sessionKey(userId, sessionId), this.#userKey(userId))
    return revocationVerdict(ended !== null, notBefore == null ? null : Number(notBefore), issuedAtSeconds)
  }
}
