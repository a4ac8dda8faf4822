import { Redis } from 'ioredis'

export interface SentinelAddress {
  host: string
  port: number
}

const PROMOTED = '+promoted-slave'
const SWITCHED = '+switch-master'

/** How long an announcement overrides what a Sentinel answers: every Sentinel knows the new master within seconds. */
export const ANNOUNCEMENT_MEMORY_MS = 10_000

/**
 * The last master change the Sentinels announced for one name, kept for a short while, for an ioredis `natMap`.
 * A Sentinel that has not heard of the failover yet (they tell each other every 2 s) still names the old master;
 * a client that asks it would connect there again, or keep failing on a dead address, until it asks one that
 * knows. Mapping the old address to the announced one moves the client on the first try. The mapping is forgotten
 * after ANNOUNCEMENT_MEMORY_MS, so a later failover back to that address that went unheard cannot be hidden.
 */
export class AnnouncedMaster {
  #latest: { from: string, to: SentinelAddress, at: number } | undefined
  readonly #name: string
  readonly #now: () => number

  constructor (name: string, now: () => number = Date.now) {
    this.#name = name
    this.#now = now
  }

  /**
   * An announcement, the new master if it is about ours:
   * - `+promoted-slave`, from the Sentinel running the failover once the replica answers as a master:
   *   `slave <ip>:<port> <new-ip> <new-port> @ <name> <old-ip> <old-port>`;
   * - `+switch-master`, from every Sentinel once it has the new configuration (the failover's end, when the old
   *   master's other replicas follow the new one): `<name> <old-ip> <old-port> <new-ip> <new-port>`.
   */
  record (channel: string, message: string): SentinelAddress | null {
    const fields = message.split(' ')
    const [name, oldHost, oldPort, newHost, newPort] = channel === PROMOTED
      ? [fields[5], fields[6], fields[7], fields[2], fields[3]]
      : fields
    if (name !== this.#name || newHost === undefined || newPort === undefined) return null
    const to = { host: newHost, port: Number(newPort) }
    this.#latest = { from: `${oldHost}:${oldPort}`, to, at: this.#now() }
    return to
  }

  /** ioredis calls it with the `host:port` a Sentinel named; null keeps that address. */
  readonly natMap = (address: string): SentinelAddress | null => {
    const latest = this.#latest
    if (latest === undefined || latest.from !== address) return null
    if (this.#now() - latest.at > ANNOUNCEMENT_MEMORY_MS) return null
    return latest.to
  }
}

/** Whether the client's connection is to `address` (an IPv4 peer may read as IPv4-mapped IPv6). */
function connectedTo (client: Redis, address: SentinelAddress): boolean {
  const stream = client.stream as { remoteAddress?: string, remotePort?: number } | undefined
  return stream?.remotePort === address.port && stream.remoteAddress?.replace(/^::ffff:/, '') === address.host
}

/**
 * Moves `client` to a new master as soon as a Sentinel announces it (recorded in `announced`, which the client
 * uses as its natMap): without it, a forced failover leaves the client on the demoted master until Sentinel
 * reconfigures that one, 8 s or more later; on `+switch-master` alone, until the failover's end.
 * - Only a connected client is told to reconnect; one already reconnecting asks the Sentinels on its next try
 *   anyway, and `announced` corrects a stale answer. One already on the announced master stays there.
 * - ioredis's own failover detector is not used: when the master dies, its subscription outlives the
 *   connection, and an announcement that lands while the client is reconnecting ends the client for good.
 * - The subscriptions end with the client.
 */
export function followSentinelSwitches (client: Redis, sentinels: SentinelAddress[], announced: AnnouncedMaster): void {
  const subscribers = sentinels.map(({ host, port }) => {
    const subscriber = new Redis({
      host,
      port,
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000)
    })
    subscriber.on('error', () => {}) // a Sentinel that is down is one of several; the client's own errors are logged
    subscriber.on('message', (channel: string, message: string) => {
      const master = announced.record(channel, message)
      // every Sentinel announces the switch, each when it hears of it; a client already there stays
      if (master !== null && client.status === 'ready' && !connectedTo(client, master)) client.disconnect(true)
    })
    subscriber.subscribe(PROMOTED, SWITCHED).catch(() => {})
    return subscriber
  })
  client.once('end', () => { for (const subscriber of subscribers) subscriber.disconnect() })
}
