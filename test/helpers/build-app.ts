import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { loadConfig, type Config } from '../../src/config.ts'
import { buildApp, type AppOverrides } from '../../src/app.ts'
import { testMongoUrl } from './mongo.ts'
import { uniqueKeyPrefix } from './redis.ts'

/**
 * How a test's app differs from the product's. Left out, each is as the product ships: a test that changes one
 * says so where it builds the app.
 */
export interface TestAppOptions extends AppOverrides {
  /** 'real' (default): the suite's Redis and MongoDB-wire server; 'memory': the embedded in-process stores */
  stores?: 'real' | 'memory'
  /**
   * false: loopback (127.0.0.1, ::1) joins RATE_LIMIT_ALLOWLIST, so the per-IP budgets never answer 429, for a
   * test that signs in many times from one address. Default true: the product's budgets.
   */
  limiter?: boolean
  /**
   * false: MAX_EVENT_LOOP_DELAY_MS at its ceiling (60 s), so a busy machine's event-loop lag is not shed with 503
   * (a sample second with no tick at all still is: the library reads it as an endless delay). Default true: the
   * product's threshold, which a 2-core CI machine running two test files and Chromium crosses now and then.
   */
  loadShedding?: boolean
  /** true: DEV_OUTBOX=true, every channel's codes go to the dev outbox for the test to read. Default false. */
  outbox?: boolean
  /** any other variable, over all of the above */
  env?: Record<string, string>
}

export function requireEnv (name: 'REDIS_URL' | 'MONGODB_URL' | 'TEST_REDIS_CLUSTER_NODES'): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\` (it starts Redis and FerretDB) or set ${name}`)
  return value
}

/** Test config: the suite's Redis and a database of this test's own (dropped at its end), unless in memory. */
export function testConfig (t: Test, options: TestAppOptions = {}): Config {
  const { stores, limiter = true, loadShedding = true, outbox = false, env } = options
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    ...(stores === 'memory' ? {} : { REDIS_URL: requireEnv('REDIS_URL'), MONGODB_URL: testMongoUrl(t) }),
    ...(limiter ? {} : { RATE_LIMIT_ALLOWLIST: '127.0.0.1,::1' }),
    ...(loadShedding ? {} : { MAX_EVENT_LOOP_DELAY_MS: '60000' }),
    ...(outbox ? { DEV_OUTBOX: 'true' } : {}),
    ...env
  })
}

/** The real app, as the server builds it, on the suite's services; closed at teardown. */
export async function buildTestApp (
  t: Test, options: TestAppOptions = {}, config: Config = testConfig(t, options)
): Promise<FastifyInstance> {
  const app = await buildApp(config, { logger: false, redisKeyPrefix: uniqueKeyPrefix(), ...options })
  t.teardown(() => app.close())
  return app
}
