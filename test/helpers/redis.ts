import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'

export type TestRedisClient = Redis | Cluster

const HOW_TO = 'run the tests with `npm test`, or `set -a; . .test-services/dev/env; set +a` first'

/** A key prefix of its own for one test file, so files running in parallel never see each other's keys. */
export function uniqueKeyPrefix (label = 'test'): string {
  return `${label}:${randomBytes(6).toString('hex')}:`
}

/** A client for the single-node test Redis (REDIS_URL); throws when the variable is unset. */
export function createTestRedis (): Redis {
  const url = process.env.REDIS_URL
  if (!url) throw new Error(`REDIS_URL is not set: ${HOW_TO}`)
  return new Redis(url, { maxRetriesPerRequest: 1 })
}

/** A client for the test Cluster (3 primaries, a replica each: TEST_REDIS_CLUSTER_NODES); throws when unset. */
export function createTestCluster (): Cluster {
  const list = process.env.TEST_REDIS_CLUSTER_NODES
  if (!list) throw new Error(`TEST_REDIS_CLUSTER_NODES is not set: ${HOW_TO}`)
  const nodes = list.split(',').map((node) => {
    const [host = '127.0.0.1', port = ''] = node.trim().split(':')
    return { host, port: Number(port) }
  })
  return new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } })
}

/** Every node holding keys: the masters of a Cluster, or the client itself. */
async function keyHolders (client: TestRedisClient): Promise<Redis[]> {
  if (!(client instanceof Cluster)) return [client]
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve))
  return client.nodes('master')
}

/** Keys under `prefix` (SCAN on every master) with their PTTL: -1 means the key has no TTL. */
export async function listKeys (
  client: TestRedisClient, prefix: string
): Promise<Array<{ key: string, pttl: number }>> {
  if (/[*?[\]\\]/.test(prefix)) throw new Error(`listKeys needs a prefix without glob characters, got ${prefix}`)
  const keys: string[] = []
  for (const node of await keyHolders(client)) {
    let cursor = '0'
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      keys.push(...batch)
    } while (cursor !== '0')
  }
  return await Promise.all(keys.map(async (key) => ({ key, pttl: await client.pttl(key) })))
}

/** Removes what a test file wrote; one key at a time, as a Cluster refuses multi-slot DEL. */
export async function deleteKeys (client: TestRedisClient, prefix: string): Promise<void> {
  const keys = await listKeys(client, prefix)
  await Promise.all(keys.map(({ key }) => client.del(key)))
}

/**
 * Time passing, as far as Redis expiry is concerned, without waiting: every key under `prefix` loses `ms` of its
 * TTL (and goes when nothing is left). With a store that takes the time from the test's clock, moving that clock
 * by the same `ms` keeps scores and TTLs in step.
 */
export async function elapseKeys (client: TestRedisClient, prefix: string, ms: number): Promise<void> {
  for (const { key, pttl } of await listKeys(client, prefix)) {
    if (pttl < 0) continue
    if (pttl - ms <= 0) await client.del(key)
    else await client.pexpire(key, pttl - ms)
  }
}

/**
 * A new client whose keys live under a prefix of their own, for one contract harness or test;
 * `close` removes what was written under the prefix, then disconnects.
 */
export function connectWithOwnPrefix (createClient: () => TestRedisClient, label: string) {
  const client = createClient()
  const keyPrefix = uniqueKeyPrefix(label)
  return {
    client,
    keyPrefix,
    listKeys: () => listKeys(client, keyPrefix),
    close: async () => {
      await deleteKeys(client, keyPrefix)
      await client.quit()
    }
  }
}

/** Every key under `prefix` with its whole value, as text: what a search for leaked secrets reads. */
export async function dumpKeys (client: TestRedisClient, prefix: string): Promise<string> {
  const dump: Record<string, unknown> = {}
  for (const { key } of await listKeys(client, prefix)) {
    const type = await client.type(key)
    if (type === 'string') dump[key] = await client.get(key)
    else if (type === 'hash') dump[key] = await client.hgetall(key)
    else if (type === 'list') dump[key] = await client.lrange(key, 0, -1)
    else if (type === 'set') dump[key] = await client.smembers(key)
    else if (type === 'zset') dump[key] = await client.zrange(key, '0', '-1', 'WITHSCORES')
    else if (type === 'stream') dump[key] = await client.xrange(key, '-', '+')
    else if (type !== 'none') throw new Error(`dumpKeys does not read ${type} keys (${key})`)
  }
  return JSON.stringify(dump)
}

/**
 * The copies `client.duplicate()` makes from now on, kept for a test to look into (acknowledgement connections are
 * copies of the app's client).
 */
export function keepCopies<Client extends Redis | Cluster> (client: Client): Client[] {
  const copies: Client[] = []
  const duplicate = client.duplicate.bind(client) as (...args: unknown[]) => Client
  Object.assign(client, {
    duplicate: (...args: unknown[]) => {
      const copy = duplicate(...args)
      copies.push(copy)
      return copy
    }
  })
  return copies
}
