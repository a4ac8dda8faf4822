import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'

/**
 * Where any of `needles` appears in the clear in the app's stores: every document of every MongoDB collection
 * (stringified), every Redis key under `keyPrefix` and its value, whatever its type (bullmq jobs included).
 */
export async function findInStores (
  app: FastifyInstance, keyPrefix: string, needles: readonly string[]
): Promise<string[]> {
  const found: string[] = []
  const check = (where: string, text: string) => {
    for (const needle of needles) if (text.includes(needle)) found.push(`${where} holds ${needle}`)
  }
  const db = app.mongo?.db
  if (db) {
    for (const { name } of await db.listCollections().toArray()) {
      for (const document of await db.collection(name).find({}).toArray()) check(`mongo ${name}`, JSON.stringify(document))
    }
  }
  const redis = app.redis as Redis | null
  if (redis) {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000)
      cursor = next
      for (const key of keys) {
        check(`redis key ${key}`, key)
        check(`redis value of ${key}`, await valueOf(redis, key))
      }
    } while (cursor !== '0')
  }
  return found
}

async function valueOf (redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key)
  if (type === 'string') return await redis.get(key) ?? ''
  if (type === 'hash') return JSON.stringify(await redis.hgetall(key))
  if (type === 'list') return JSON.stringify(await redis.lrange(key, 0, -1))
  if (type === 'set') return JSON.stringify(await redis.smembers(key))
  if (type === 'zset') return JSON.stringify(await redis.zrange(key, '0', '-1', 'WITHSCORES'))
  if (type === 'stream') return JSON.stringify(await redis.xrange(key, '-', '+'))
  return ''
}
