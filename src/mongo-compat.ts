import type { Connection } from 'mongoose'

/**
 * Which semantics the MongoDB-wire server gives: 'mongodb' (atomic filtered updates, TTL and unique sparse
 * indexes, `$push` with `$slice`) or 'ferretdb' (FerretDB 1.x: a filtered update is a read and a separate
 * write, FerretDB#3040). Chosen once at start-up; only the 'ferretdb' adapters carry FerretDB's workarounds.
 */
export type MongoCompat = 'mongodb' | 'ferretdb'

export type MongoCompatSetting = MongoCompat | 'auto'

/** MONGODB_COMPAT=auto asks the server: FerretDB answers buildInfo with its own version. */
export async function resolveMongoCompat (connection: Connection, setting: MongoCompatSetting): Promise<MongoCompat> {
  if (setting !== 'auto') return setting
  const info = await connection.getClient().db('admin').command({ buildInfo: 1 })
  return typeof info.ferretdbVersion === 'string' ? 'ferretdb' : 'mongodb'
}
