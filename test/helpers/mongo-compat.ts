import type { Connection } from 'mongoose'
import { resolveMongoCompat, type MongoCompat } from '../../src/mongo-compat.ts'

/**
 * What the adapters of one compat mode can promise on the test server. The 'mongodb' adapters run on FerretDB too,
 * where each document has one writer (tests, benchmarks): its filtered updates are not atomic and it ignores
 * `$slice`, so the races and the capping are only asserted where the server gives those semantics.
 */
export async function compatCapabilities (connection: Connection, compat: MongoCompat) {
  const server = await resolveMongoCompat(connection, 'auto')
  const faithful = compat === 'ferretdb' || server === 'mongodb'
  const reason = `the ${compat} adapters on a ${server} server (MONGODB_URL at a real mongod runs these)`
  return { server, races: faithful, slice: faithful, reason }
}

export const COMPATS: MongoCompat[] = ['mongodb', 'ferretdb']
