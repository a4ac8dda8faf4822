import calculateSlot from 'cluster-key-slot'
import { Cluster, type Redis } from 'ioredis'

/**
 * Fewer replicas than REDIS_WAIT_REPLICAS acknowledged a write in REDIS_WAIT_TIMEOUT_MS: were the primary to fail
 * now, the write could be lost, so the answer that promises it is 503 (store-errors.ts lists this name).
 */
export class ReplicasBehindError extends Error {
  override name = 'ReplicasBehindError'
}

/**
 * "Acknowledged means durable": after a write a client relies on once it has its answer (a started or resent
 * challenge, a used code, a revocation, a queued job), `confirm` resolves once `replicas` replicas hold it, and
 * throws ReplicasBehindError otherwise; the caller then withdraws the write where it can. The store that made
 * the write calls it with the write's key, right after the write, before anything else on its connection.
 */
export interface ReplicaAck {
  /** 0: confirm does nothing and costs no round trip */
  readonly replicas: number
  confirm (key: string): Promise<void>
}

export const NO_REPLICA_ACK: ReplicaAck = { replicas: 0, confirm: async () => {} }

export interface ReplicaAckOptions {
  replicas: number
  /** below the connection's command timeout, so WAIT answers before the client gives up on it */
  timeoutMs: number
}

/**
 * WAIT counts what the connection that sent it wrote, so it runs on that one: the client itself, or on a
 * Cluster the connection to the master of the key's slot (the one ioredis sent the write on). WAIT cannot run
 * inside a Lua script, hence a command of its own after the script. While a WAIT waits, Redis serves nothing
 * else on that connection: a missing replica costs each write on it up to timeoutMs.
 */
export function createReplicaAck (
  redis: Redis | Cluster | null, { replicas, timeoutMs }: ReplicaAckOptions
): ReplicaAck {
  if (redis === null || replicas === 0) return NO_REPLICA_ACK
  return {
    replicas,
    confirm: async (key) => {
      const acknowledged = await connectionOf(redis, key).wait(replicas, timeoutMs)
      if (acknowledged < replicas) {
        throw new ReplicasBehindError(`${acknowledged} of ${replicas} replicas acknowledged a write within ${timeoutMs} ms`)
      }
    }
  }
}

function connectionOf (redis: Redis | Cluster, key: string): Redis {
  if (!(redis instanceof Cluster)) return redis
  // slots[slot] lists the slot's nodes as host:port, its master first
  const master = redis.slots[calculateSlot(key)]?.[0]
  const node = master === undefined
    ? undefined
    : redis.nodes('master').find(({ options }) => `${options.host}:${options.port}` === master)
  if (node === undefined) throw new ReplicasBehindError('no master is known for the write\'s slot (the Cluster is failing over)')
  return node
}
