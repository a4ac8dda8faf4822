import { hash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { NO_REPLICA_ACK, type ReplicaAck } from '../stores/replica-ack.ts'
import { revocationVerdict, type RevocationStore, type RevocationVerdict } from './revocation-store.ts'

/** 128 bits of the user id's SHA-256: unique enough for a key, and not the id. */
const userTag = (userId: string) => hash('sha256', `revocation:${userId}`, 'base64url').slice(0, 22)

/**
 * RevocationStore on Redis. A user's keys share the `{<user tag>}` hash tag, so `check` is one MGET on one slot,
 * Redis Cluster included. The tag is a hash of the user id, not the id: the "not before" entry an account's
 * erasure leaves behind (it ends the deleted user's tokens) must not name the user it erased.
 */
export class RedisRevocationStore implements RevocationStore {
  readonly #redis: Redis | Cluster
  readonly #prefix: string
  readonly #ack: ReplicaAck

  /** replicaAck: with REDIS_WAIT_REPLICAS an entry reaches the replicas before the revocation is answered */
  constructor (redis: Redis | Cluster, { keyPrefix = 'revoked:', replicaAck = NO_REPLICA_ACK }: { keyPrefix?: string, replicaAck?: ReplicaAck } = {}) {
    this.#redis = redis
    this.#prefix = keyPrefix
    this.#ack = replicaAck
  }

  #sessionKey (userId: string, sessionId: string) { return `${this.#prefix}{${userTag(userId)}}:session:${sessionId}` }
  #userKey (userId: string) { return `${this.#prefix}{${userTag(userId)}}:not-before` }

  async revokeSession (userId: string, sessionId: string, ttlSeconds: number): Promise<void> {
    const key = this.#sessionKey(userId, sessionId)
    await this.#redis.set(key, '1', 'EX', ttlSeconds)
    // a revocation is never withdrawn: one that may not survive a failover answers 503, and the caller retries
    await this.#ack.confirm(key)
  }

  async revokeUserBefore (userId: string, at: Date, ttlSeconds: number): Promise<void> {
    const key = this.#userKey(userId)
    await this.#redis.set(key, String(at.getTime()), 'EX', ttlSeconds)
    await this.#ack.confirm(key)
  }

  async check (userId: string, sessionId: string, issuedAtSeconds: number): Promise<RevocationVerdict> {
    const [ended, notBefore] = await this.#redis.mget(this.#sessionKey(userId, sessionId), this.#userKey(userId))
    return revocationVerdict(ended !== null, notBefore == null ? null : Number(notBefore), issuedAtSeconds)
  }
}
