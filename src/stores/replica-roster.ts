/**
 * How long a replica that stopped streaming from its primary still has to acknowledge every write there. Sentinel
 * moves the other replicas to a promoted one within a second or two of promoting it; a replica gone for good (or
 * for longer than this) stops holding writes back after this long.
 */
export const DEPARTED_REPLICA_MEMORY_MS = 10_000

/** What `INFO replication` says about a primary: its replication id and its replicas that stream (state=online). */
export interface ReplicationInfo {
  replid: string
  online: string[]
}

export function parseReplicationInfo (info: string): ReplicationInfo {
  const replid = /^master_replid:(\w+)/m.exec(info)?.[1] ?? ''
  const online = [...info.matchAll(/^slave\d+:ip=([^,]+),port=(\d+),state=online\b/gm)].map(([, ip, port]) => `${ip}:${port}`)
  return { replid, online }
}

interface Primary {
  replid: string
  /** each replica once seen streaming, with the first time it was seen not to (null: it still was, last time) */
  replicas: Map<string, number | null>
}

/**
 * The replicas each primary had, so a write waits for all of them, never for "any N". In a forced Sentinel
 * failover the old primary goes on taking writes while the promoted replica has left it and the others still
 * follow it: "WAIT 1" would count one of those, and lose the write when it resyncs from the new primary. A replica
 * that left is still waited for (and so refuses the write) for DEPARTED_REPLICA_MEMORY_MS after it was first seen
 * gone; then the primary goes on with the ones that stayed, never fewer than the configured number.
 */
export class ReplicaRoster {
  readonly #primaries = new Map<string, Primary>()
  readonly #minimum: number
  readonly #now: () => number

  constructor (minimum: number, now: () => number) {
    this.#minimum = minimum
    this.#now = now
  }

  /** How many replicas a write on the primary at `address` must reach: all it had, at least the minimum. */
  required (address: string): number {
    const primary = this.#primaries.get(address)
    if (primary === undefined) return this.#minimum
    const now = this.#now()
    let count = 0
    for (const [name, goneSince] of primary.replicas) {
      if (goneSince !== null && now - goneSince >= DEPARTED_REPLICA_MEMORY_MS) primary.replicas.delete(name)
      else count++
    }
    return Math.max(this.#minimum, count)
  }

  /** Records what the primary at `address` said after a write: which replicas stream from it now. */
  observe (address: string, { replid, online }: ReplicationInfo): void {
    const now = this.#now()
    let primary = this.#primaries.get(address)
    // another replication id: another primary at this address (restarted, or promoted), with replicas of its own
    if (primary === undefined || primary.replid !== replid) {
      primary = { replid, replicas: new Map() }
      this.#primaries.set(address, primary)
    }
    const streaming = new Set(online)
    for (const [name, goneSince] of primary.replicas) {
      if (!streaming.has(name) && goneSince === null) primary.replicas.set(name, now)
    }
    for (const name of streaming) primary.replicas.set(name, null)
  }
}
