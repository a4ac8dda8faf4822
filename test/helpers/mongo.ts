import { randomBytes } from 'node:crypto'
import mongoose, { type Connection } from 'mongoose'
import type { Test } from 'tap'
import { connectMongo } from '../../plugins/mongo.ts'
import './ferretdb-shims.ts'

const TIMEOUT_MS = 5000

/** MONGODB_URL from the test services; a test that needs it fails (never skips) without it. */
function baseUrl (): URL {
  const url = process.env.MONGODB_URL
  if (!url) throw new Error('MONGODB_URL is not set: run the tests with `npm test` (scripts/with-test-services.sh starts FerretDB) or point it at a mongod')
  return new URL(url)
}

let server: Promise<'mongodb' | 'ferretdb'> | undefined

/** What MONGODB_URL runs, asked once per process: FerretDB answers buildInfo with its own version too. */
export function testServer (): Promise<'mongodb' | 'ferretdb'> {
  server ??= (async () => {
    const connection = mongoose.createConnection(baseUrl().href, { serverSelectionTimeoutMS: TIMEOUT_MS })
    try {
      await connection.asPromise()
      const info = await connection.db!.admin().command({ buildInfo: 1 })
      return typeof info.ferretdbVersion === 'string' ? 'ferretdb' : 'mongodb'
    } finally {
      await connection.close()
    }
  })()
  return server
}

/** What FerretDB 1.x, the test server, lacks of MongoDB, for the tests that rely on it. */
const FERRETDB_LACKS = {
  atomicUpdates: 'MongoDB\'s atomic filtered updates (FerretDB 1.x runs one as a read and a separate write, so parallel writers of one document both match)'
} as const

/** tap options of a test that needs what the test server lacks: skipped there with the reason, run on a mongod. */
export async function needsMongoDb (what: keyof typeof FERRETDB_LACKS): Promise<{ skip?: string }> {
  if (await testServer() === 'mongodb') return {}
  return { skip: `needs ${FERRETDB_LACKS[what]}; MONGODB_URL at a real mongod runs it` }
}

/** NODE_OPTIONS for an app process a test starts against the test server: its shims (ferretdb-shims.ts). */
export const testServerNodeOptions = `--import=${new URL('./ferretdb-shims.ts', import.meta.url).href}`

async function dropDatabase (url: string): Promise<void> {
  const connection = mongoose.createConnection(url, { serverSelectionTimeoutMS: TIMEOUT_MS })
  try {
    await connection.asPromise()
    await connection.dropDatabase()
  } finally {
    await connection.close()
  }
}

/**
 * A mongodb:// URL to a database of its own (test files run in parallel against one server), dropped when `t`
 * ends. For tests that hand the URL to the app; tests that want a connection use connectTestMongo.
 */
export function testMongoUrl (t: Test): string {
  const url = baseUrl()
  // FerretDB wants database names of [a-zA-Z0-9_-], at most 63 characters
  url.pathname = `/otp-gate-test-${process.pid}-${randomBytes(6).toString('hex')}`
  const text = url.toString()
  t.teardown(() => dropDatabase(text))
  return text
}

/** A connection made the way the app makes it, to a fresh database; dropped and closed when `t` ends. */
export async function connectTestMongo (t: Test): Promise<Connection> {
  const url = testMongoUrl(t)
  const connection = await connectMongo(url, TIMEOUT_MS)
  // teardowns run last-in first-out: this closes before testMongoUrl's drop runs
  t.teardown(() => connection.close())
  return connection
}
