import type { Cluster, Redis } from 'ioredis'
import type { PasskeyChallengeStore, PendingPasskeyChallenge } from './passkey-challenge-store.ts'

/**
 * The PasskeyChallengeStore contract on Redis or Redis Cluster: one key per challenge with Redis's own TTL;
 * `take` is GETDEL, one atomic command, so a challenge answers once. The challenge is the key's hash tag, so
 * every command touches one slot.
 */
export class RedisPasskeyChallengeStore implements PasskeyChallengeStore {
  readonly #client: Redis | Cluster
  readonly #prefix: string

  /** the store never closes `client` */
  constructor (client: Redis | Cluster, { keyPrefix = 'passkey-challenge:' }: { keyPrefix?: string } = {}) {
    this.#client = client
    this.#prefix = keyPrefix
  }

  #key (challenge: string): string {
    return `${this.#prefix}{${challenge}}`
  }

  async save (challenge: string, pending: PendingPasskeyChallenge, ttlMs: number): Promise<void> {
    await this.#client.set(this.#key(challenge), JSON.stringify(pending), 'PX', ttlMs)
  }

  async take (challenge: string): Promise<PendingPasskeyChallenge | null> {
    const value = await this.#client.getdel(this.#key(challenge))
    return value === null ? null : JSON.parse(value) as PendingPasskeyChallenge
  }

  async close (): Promise<void> {}
}
