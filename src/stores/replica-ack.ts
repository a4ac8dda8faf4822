import type { Cluster, Redis } from 'ioredis'
import { AckConnections } from './ack-connections.ts'

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
 * the write calls it with the write's key, once the write is answered.
 */
export interface ReplicaAck {
  /** 0: confirm does nothing and costs no round trip */
  readonly replicas: number
  confirm (key: string): Promise<void>
  /** closes the connections the acknowledgements run on */
  close (): Promise<void>
}

export const NO_REPLICA_ACK: ReplicaAck = { replicas: 0, confirm: async () => {}, close: async () => {} }

export interface ReplicaAckOptions {
  replicas: number
  /** below the connection's command timeout, so WAIT answers before the client gives up on it */
  timeoutMs: number
  /** acknowledgements waiting at once; one more waits for a free connection within timeoutMs (default 16) */
  connections?: number
}

/**
 * WAIT counts the writes of the connection that sends it, and Redis serves nothing else on that connection while
 * it waits: on the app's one connection, a missing replica would hold every request behind each WAIT. So each
 * acknowledgement runs on a connection of its own (AckConnections) as a marker write in the key's slot, then
 * WAIT: replication is in order, so the replicas that hold the marker hold the write made before it.
 */
export function createReplicaAck (
  redis: Redis | Cluster | null, { replicas, timeoutMs, connections = 16 }: ReplicaAckOptions
): ReplicaAck {
  if (redis === null || replicas === 0) return NO_REPLICA_ACK
  const pool = new AckConnections(redis, connections)
  const behind = (why: string) => new ReplicasBehindError(why)
  return {
    replicas,
    confirm: async (key) => {
      const acknowledged = await pool.use(timeoutMs, behind, async (connection) => {
        const [marked, waited] = await connection.pipeline()
          .set(markerKey(key), '1', 'PX', 10_000)
          .wait(replicas, timeoutMs)
          .exec() ?? []
        if (marked?.[0]) throw marked[0]
        if (waited?.[0]) throw waited[0]
        return Number(waited?.[1] ?? 0)
      }).catch((error: unknown) => {
        // whatever kept the acknowledgement from being asked (a failover's redirections, a closed connection),
        // the write is not known to be on a replica: the same refusal, and the caller withdraws it
        if (error instanceof ReplicasBehindError) throw error
        throw behind(`the replicas could not be asked: ${(error as Error).message}`)
      })
      if (acknowledged < replicas) {
        throw behind(`${acknowledged} of ${replicas} replicas acknowledged a write within ${timeoutMs} ms`)
      }
    },
    close: () => pool.close()
  }
}

/**
 * A key in the written key's Cluster slot: its {hash tag}, or the whole key as one. Every store's key has a tag,
 * so markers are one per tag (a bucket, a user, the queue), each gone 10 s after its last write.
 */
export function markerKey (key: string): string {
  const open = key.indexOf('{')
  const close = open === -1 ? -1 : key.indexOf('}', open + 1)
  const tag = close > open + 1 ? key.slice(open + 1, close) : key
  return `{${tag}}:replica-ack`
}
