import { once } from 'node:events'
import type { Cluster, Redis } from 'ioredis'

/**
 * ioredis asks for a Cluster's slot map again on a MOVED or CLUSTERDOWN answer, not when a node's connection
 * fails: the slots of a dead primary would answer 503 until some other error came. Asking on every node failure
 * (ioredis runs one refresh at a time) finds its promoted replica as soon as the cluster names it.
 */
export function refreshSlotsOnNodeFailure (cluster: Cluster): void {
  cluster.on('node error', () => { cluster.refreshSlotsCache() })
  cluster.on('-node', () => { cluster.refreshSlotsCache() })
}

/** Asks for the slot map again and resolves once it is in, or after `withinMs` (failed or late: the map stays). */
export function refreshSlots (cluster: Cluster, withinMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, withinMs)
    cluster.refreshSlotsCache(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Resolves once a node's connection is ready: connected now if it waits for a first command, else its 'ready'. */
async function ready (node: Redis): Promise<void> {
  if (node.status === 'wait') await node.connect().catch(() => {})
  else if (node.status !== 'ready') await once(node, 'ready').catch(() => {})
}

/** `work`, or nothing more after `withinMs` (best effort: a node that does not answer fails its own commands). */
async function within (work: Promise<unknown>, withinMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([work, new Promise((resolve) => { timer = setTimeout(resolve, withinMs) })])
  clearTimeout(timer)
}

/**
 * Connects to every node the slot map names, replicas too, within `withinMs`. ioredis opens a node's connection at
 * its first command, and with the offline queue off (fail fast) refuses the commands that meet it still connecting:
 * "Connection is closed", 503s on a fresh start, and after a failover until the promoted replica's connection,
 * opened only then, is up. Open already, it turns writable at once (READWRITE on it).
 */
export async function connectEveryNode (cluster: Cluster, withinMs: number): Promise<void> {
  await within(Promise.all(cluster.nodes('all').map(ready)), withinMs)
}

/**
 * Waits, within `withinMs`, for the connection to the primary at `address` (a slot map's node key) if it is not
 * ready: a replica that joined after the client connected everything (an old primary back) has no connection
 * until the slot map's refresh on its promotion starts one, and a command meeting it then is refused as above.
 */
export async function connectPrimary (cluster: Cluster, address: string, withinMs: number): Promise<void> {
  const node = cluster.nodes('master').find((candidate) => `${candidate.options.host}:${candidate.options.port}` === address)
  if (node !== undefined && node.status !== 'ready') await within(ready(node), withinMs)
}
