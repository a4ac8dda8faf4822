import calculateSlot from 'cluster-key-slot'
import { Cluster, type Redis } from 'ioredis'
import { AckConnections } from './ack-connections.ts'
import { connectPrimary, refreshSlots } from './cluster-slots.ts'
import { parseReplicationInfo, ReplicaRoster } from './replica-roster.ts'

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

/** Acknowledgement connections opened at start, before any is needed. */
const WARM_CONNECTIONS = 4

export const NO_REPLICA_ACK: ReplicaAck = { replicas: 0, confirm: async () => {}, close: async () => {} }

export interface ReplicaAckOptions {
  /** REDIS_WAIT_REPLICAS: the fewest replicas a write must reach (all the primary has, when it has more) */
  replicas: number
  /** below the connection's command timeout, so WAIT answers before the client gives up on it */
  timeoutMs: number
  /** acknowledgements waiting at once; one more waits for a free connection within timeoutMs (default 16) */
  connections?: number
  now?: () => number
}

/**
 * WAIT counts the writes of the connection that sends it, and Redis serves nothing else on that connection while
 * it waits: on the app's one connection, a missing replica would hold every request behind each WAIT. So each
 * acknowledgement runs on a connection of its own (AckConnections) as a marker write in the key's slot, then
 * WAIT: replication is in order, so the replicas that hold the marker hold the write made before it. It waits for
 * every replica the primary has (ReplicaRoster), and reads them back in the same round trip.
 */
export function createReplicaAck (
  redis: Redis | Cluster | null, { replicas, timeoutMs, connections = 16, now = Date.now }: ReplicaAckOptions
): ReplicaAck {
  if (redis === null || replicas === 0) return NO_REPLICA_ACK
  const pool = new AckConnections(redis, connections)
  // a cold process opening its first copies as a load starts took over the deadline (Cluster copies, in the
  // faults harness): a few are opened at once
  pool.warm(WARM_CONNECTIONS)
  const roster = new ReplicaRoster(replicas, now)
  const behind = (why: string) => new ReplicasBehindError(why)
  return {
    replicas,
    confirm: async (key) => {
      const marker = markerKey(key)
      // where the write went: read now, in the tick its answer came in, before the app's client can follow a
      // failover elsewhere (then a marker on the new primary would vouch for a write left on the old one)
      const writtenOn = primaryOf(redis, marker)
      const began = now()
      const left = () => Math.max(0, began + timeoutMs - now())
      const askOn = async (connection: Redis | Cluster) => {
        let address = primaryOf(connection, marker)
        if (address !== writtenOn && connection instanceof Cluster) {
          // a copy learns of a failover only from an answer or a refresh, and the write's MOVED taught only the
          // app's client: the copy asks once, within what is left of the deadline, before anything is refused
          await refreshSlots(connection, left())
          address = primaryOf(connection, marker)
        }
        if (address !== writtenOn) {
          // a failover, and one side has not followed yet. On a Cluster either slot map may name the dead primary
          // (a slot reached by chance on the promoted node answers without MOVED): both ask for it again. On a
          // Sentinel set, copies left on the old master after the app's client moved are closed
          if (redis instanceof Cluster) redis.refreshSlotsCache()
          const current = primaryOf(redis, marker)
          const stale = (idle: Redis | Cluster) => primaryOf(idle, marker) !== current
          if (redis instanceof Cluster || address !== current) pool.catchUp(stale)
          throw behind(`the acknowledgement would be asked of ${address}, not ${writtenOn} where the write went`)
        }
        // the write's primary may be a replica just promoted, its connection on this copy still opening
        if (connection instanceof Cluster) await connectPrimary(connection, address, left())
        const required = roster.required(address)
        const [marked, waited, info] = await connection.pipeline()
          .set(marker, '1', 'PX', 10_000)
          .wait(required, timeoutMs)
          .info('replication')
          .exec() ?? []
        for (const answer of [marked, waited, info]) if (answer?.[0]) throw answer[0]
        roster.observe(address, parseReplicationInfo(String(info?.[1] ?? '')))
        return { acknowledged: Number(waited?.[1] ?? 0), required }
      }
      const { acknowledged, required } = await pool.use(timeoutMs, behind, askOn).catch((error: unknown) => {
        // whatever kept the acknowledgement from being asked (a failover's redirections, a closed connection),
        // the write is not known to be on a replica: the same refusal, and the caller withdraws it
        if (error instanceof ReplicasBehindError) throw error
        throw behind(`the replicas could not be asked: ${(error as Error).message}`)
      })
      if (acknowledged < required) {
        throw behind(`${acknowledged} of ${required} replicas acknowledged a write within ${timeoutMs} ms`)
      }
    },
    close: () => pool.close()
  }
}

/** The primary a command on `marker` goes to: the Cluster node that serves its slot, or the connection's server. */
function primaryOf (client: Redis | Cluster, marker: string): string {
  if (client instanceof Cluster) return client.slots[calculateSlot(marker)]?.[0] ?? 'no node yet'
  return `${client.stream?.remoteAddress}:${client.stream?.remotePort}`
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
