import type { Cluster, Redis } from 'ioredis'
import type { MfaChallenge, MfaChallengeStore } from './mfa-challenge-store.ts'

const parse = (value: string | null): MfaChallenge | null => value === null ? null : JSON.parse(value) as MfaChallenge

/** The MfaChallengeStore contract on Redis or Redis Cluster: one key per challenge, `take` is GETDEL. */
export class RedisMfaChallengeStore implements MfaChallengeStore {
  readonly #client: Redis | Cluster
  readonly #prefix: string

  /** the store never closes `client` */
  constructor (client: Redis | Cluster, { keyPrefix = 'mfa:' }: { keyPrefix?: string } = {}) {
    this.#client = client
    this.#prefix = keyPrefix
  }

  async save (tokenHash: string, challenge: MfaChallenge, ttlMs: number): Promise<void> {
    await this.#client.set(this.#prefix + tokenHash, JSON.stringify(challenge), 'PX', ttlMs)
  }

  async find (tokenHash: string): Promise<MfaChallenge | null> {
    return parse(await this.#client.get(this.#prefix + tokenHash))
  }

  async take (tokenHash: string): Promise<MfaChallenge | null> {
    return parse(await this.#client.getdel(this.#prefix + tokenHash))
  }

  async close (): Promise<void> {}
}
