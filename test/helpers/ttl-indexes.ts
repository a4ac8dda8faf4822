import { Collection, type CreateIndexesOptions, type IndexSpecification } from 'mongodb'

const NOT_IMPLEMENTED = 238

/** `<db>.<collection>.<index name>` → the expireAfterSeconds src/ asked for and the server refused */
const unenforced = new Map<string, number>()

/**
 * Test-only. src/ creates its TTL indexes as MongoDB runs them; FerretDB 1.x, the test server, refuses the
 * `expireAfterSeconds` option (NotImplemented, 238; `sparse` it accepts and ignores). So that the app starts there,
 * such an index is made without the option and the expiry noted for expireAfterSeconds() below. Nothing on
 * FerretDB expires by itself: no test waits for a TTL monitor, which on MongoDB runs once a minute anyway.
 * Loaded by test/helpers/mongo.ts, and with NODE_OPTIONS (testServerNodeOptions) by app processes a test spawns.
 */
const createIndex = Collection.prototype.createIndex as (this: Collection, ...args: unknown[]) => Promise<string>
Collection.prototype.createIndex = async function (
  this: Collection, spec: IndexSpecification, options: CreateIndexesOptions = {}, ...rest: unknown[]
): Promise<string> {
  try {
    return await createIndex.call(this, spec, options, ...rest)
  } catch (error) {
    const { expireAfterSeconds, ...plain } = options
    if ((error as { code?: unknown }).code !== NOT_IMPLEMENTED || expireAfterSeconds === undefined) throw error
    const name = await createIndex.call(this, spec, plain, ...rest)
    unenforced.set(`${this.namespace}.${name}`, expireAfterSeconds)
    return name
  }
}

/** The expiry of a TTL index as src/ defined it: the server's, or the one FerretDB refused (see above). */
export async function expireAfterSeconds (collection: Collection, name: string): Promise<number | undefined> {
  const index = (await collection.indexes()).find((index) => index.name === name)
  if (index === undefined) return undefined
  return index.expireAfterSeconds ?? unenforced.get(`${collection.namespace}.${name}`)
}
