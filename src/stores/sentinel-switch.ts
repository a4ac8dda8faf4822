import { Redis } from 'ioredis'

export interface SentinelAddress {
  host: string
  port: number
}

/**
 * Moves `client` to a new master as soon as any Sentinel announces it (`+switch-master` for `name`): without it,
 * a forced failover leaves the client on the demoted master until Sentinel reconfigures that one, 8 s or more
 * later. Only a connected client is told to reconnect; one that is already reconnecting asks the Sentinels on its
 * next try anyway. (ioredis's own failover detector is not used: when the master dies, its subscription outlives
 * the connection, and an announcement that lands while the client is reconnecting ends the client for good.)
 * The subscriptions end with the client.
 */
export function followSentinelSwitches (client: Redis, sentinels: SentinelAddress[], name: string): void {
  const subscribers = sentinels.map(({ host, port }) => {
    const subscriber = new Redis({
      host,
      port,
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000)
    })
    subscriber.on('error', () => {}) // a Sentinel that is down is one of several; the client's own errors are logged
    subscriber.on('message', (_channel: string, message: string) => {
      if (message.split(' ')[0] === name && client.status === 'ready') client.disconnect(true)
    })
    subscriber.subscribe('+switch-master').catch(() => {})
    return subscriber
  })
  client.once('end', () => { for (const subscriber of subscribers) subscriber.disconnect() })
}
