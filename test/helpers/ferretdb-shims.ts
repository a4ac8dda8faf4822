import { Collection, type CreateIndexesOptions } from 'mongodb'

/*
 * Test-only. src/ is written for MongoDB; two things it relies on, FerretDB 1.x (the test server) answers
 * otherwise, and this module, loaded before the app talks to it, makes them MongoDB's again in the driver:
 * - a TTL index: FerretDB refuses `expireAfterSeconds` (NotImplemented, 238; `sparse` it takes and ignores). The
 *   index is made without the option and the expiry noted for expireAfterSeconds() below. Nothing on FerretDB
 *   expires by itself: no test waits for a TTL monitor, which on MongoDB runs once a minute anyway.
 * - an update a unique index refuses: FerretDB answers InternalError (on SQLite "UNIQUE constraint failed", on
 *   PostgreSQL "duplicate key value"), MongoDB DuplicateKey (11000), which src/ turns into a 409.
 * Loaded by test/helpers/mongo.ts, and with NODE_OPTIONS (testServerNodeOptions) by app processes a test starts.
 */

const NOT_IMPLEMENTED = 238
const INTERNAL_ERROR = 1
const UNIQUE_VIOLATION = /UNIQUE constraint failed: index|duplicate key value violates unique constraint/

/** `<db>.<collection>.<index name>` → the expireAfterSeconds src/ asked for and the server refused */
const unenforced = new Map<string, number>()

type Method = (this: Collection, ...args: unknown[]) => Promise<unknown>
const prototype = Collection.prototype as unknown as Record<string, Method>

const createIndex = prototype.createIndex!
prototype.createIndex = async function (spec, options, ...rest) {
  try {
    return await createIndex.call(this, spec, options, ...rest)
  } catch (error) {
    const { expireAfterSeconds, ...plain } = (options ?? {}) as CreateIndexesOptions
    if ((error as { code?: unknown }).code !== NOT_IMPLEMENTED || expireAfterSeconds === undefined) throw error
    const name = await createIndex.call(this, spec, plain, ...rest) as string
    unenforced.set(`${this.namespace}.${name}`, expireAfterSeconds)
    return name
  }
}

for (const name of ['updateOne', 'updateMany', 'replaceOne', 'findOneAndUpdate', 'findOneAndReplace']) {
  const update = prototype[name]!
  prototype[name] = async function (...args) {
    try {
      return await update.apply(this, args)
    } catch (error) {
      const { code, message } = error as { code?: unknown, message?: unknown }
      if (code === INTERNAL_ERROR && UNIQUE_VIOLATION.test(String(message))) {
        Object.assign(error as object, { code: 11000, codeName: 'DuplicateKey' })
      }
      throw error
    }
  }
}

/** The expiry of a TTL index as src/ defined it: the server's, or the one FerretDB refused (see above). */
export async function expireAfterSeconds (collection: Collection, name: string): Promise<number | undefined> {
  const index = (await collection.indexes()).find((index) => index.name === name)
  if (index === undefined) return undefined
  return index.expireAfterSeconds ?? unenforced.get(`${collection.namespace}.${name}`)
}
