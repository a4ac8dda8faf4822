import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { loadConfig, type Config } from '../../src/config.ts'
import { buildApp, type AppOverrides } from '../../src/app.ts'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface TestAppOptions extends AppOverrides {
  /** 'real' (default): the suite's Redis and MongoDB-wire server; 'memory': the embedded in-process stores */
  stores?: 'real' | 'memory'
  env?: Record<string, string>
}

export function requireEnv (name: 'REDIS_URL' | 'MONGODB_URL' | 'TEST_REDIS_CLUSTER_NODES'): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\` (it starts Redis and FerretDB) or set ${name}`)
  return value
}

/** A MongoDB URL for a database of this test file alone. */
export function uniqueMongoUrl (): string {
  const url = new URL(requireEnv('MONGODB_URL'))
  url.pathname = `/otp-gate-test-${randomBytes(5).toString('hex')}`
  return url.toString()
}

export function testConfig (options: TestAppOptions = {}): Config {
  const stores = options.stores === 'memory' ? {} : { REDIS_URL: requireEnv('REDIS_URL'), MONGODB_URL: uniqueMongoUrl() }
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...stores, ...options.env })
}

/** The real app, as the server builds it, on the suite's services; closed (and its database dropped) at teardown. */
export async function buildTestApp (t: Teardown, options: TestAppOptions = {}, config: Config = testConfig(options)): Promise<FastifyInstance> {
  const app = await buildApp(config, { logger: false, redisKeyPrefix: `test:${randomBytes(4).toString('hex')}:`, ...options })
  t.teardown(async () => {
    await app.mongo?.dropDatabase().catch(() => {})
    await app.close()
  })
  return app
}
