import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { loadConfig, type Config } from '../../src/config.ts'
import { buildApp, type AppOverrides } from '../../src/app.ts'
import { testMongoUrl } from './mongo.ts'
import { uniqueKeyPrefix } from './redis.ts'

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

/**
 * Test config: the suite's Redis and a database of this test's own (dropped at its end), unless in memory.
 * With real stores codes go to the dev outbox (DEV_OUTBOX=true) for tests to read; tests of providers turn it off.
 */
export function testConfig (t: Test, options: TestAppOptions = {}): Config {
  const stores = options.stores === 'memory' ? {} : { REDIS_URL: requireEnv('REDIS_URL'), MONGODB_URL: testMongoUrl(t), DEV_OUTBOX: 'true' }
  // the per-IP budgets would stop a suite that logs in many times from one address; their own tests lift this.
  // Load shedding answers 503 when the event loop lags, as it does on a busy 2-core CI machine running two test
  // files and Chromium at once: off here (test/load-shedding.test.ts sets its own threshold)
  const base = { NODE_ENV: 'test', LOG_LEVEL: 'silent', RATE_LIMIT_ALLOWLIST: '127.0.0.1,::1', MAX_EVENT_LOOP_DELAY_MS: '60000' }
  return loadConfig({ ...base, ...stores, ...options.env })
}

/** The real app, as the server builds it, on the suite's services; closed at teardown. */
export async function buildTestApp (
  t: Test, options: TestAppOptions = {}, config: Config = testConfig(t, options)
): Promise<FastifyInstance> {
  const app = await buildApp(config, { logger: false, redisKeyPrefix: uniqueKeyPrefix(), ...options })
  t.teardown(() => app.close())
  return app
}
