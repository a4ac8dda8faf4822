import { once } from 'node:events'
import type { Cluster } from 'ioredis'

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

/**
 * Connects to every primary the slot map names, within `withinMs` (best effort: one that does not answer is left
 * to fail its own commands). ioredis opens a node's connection at its first command, and with the offline queue off
 * (fail fast) refuses the commands that meet it still connecting: "Connection is closed", 503s on a fresh start.
 */
export async function connectEveryPrimary (cluster: Cluster, withinMs: number): Promise<void> {
  const connecting = cluster.nodes('master').map(async (node) => {
    if (node.status === 'wait') await node.connect().catch(() => {})
    else if (node.status !== 'ready') await once(node, 'ready').catch(() => {})
  })
  let timer: NodeJS.Timeout | undefined
  await Promise.race([Promise.all(connecting), new Promise((resolve) => { timer = setTimeout(resolve, withinMs) })])
  clearTimeout(timer)
}
