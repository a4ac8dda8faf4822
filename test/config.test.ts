import t from 'tap'
import { readFileSync } from 'node:fs'
import { ConfigError, ConfigSchema, isEmbedded, loadConfig, sendsInProcess } from '../src/config.ts'
import { CONFIG_GROUPS } from '../src/config/settings.ts'
import { renderEnvExample, withConfigTables } from '../src/config/config-docs.ts'
import { productionProblems } from '../src/config/production-problems.ts'

const productionEnv = {
  NODE_ENV: 'production',
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGODB_URL: 'mongodb://127.0.0.1:27017/otp',
  JWT_KEYS: '[]',
  OTP_PEPPER: 'p'.repeat(32),
  SENDGRID_API_KEY: 'SG.key',
  EMAIL_FROM: 'codes@example.org',
  VONAGE_API_KEY: 'key',
  VONAGE_API_SECRET: 'secret',
  SMS_FROM: 'otpgate',
  SMS_ALLOWED_COUNTRIES: 'US,FR',
  TOTP_ENCRYPTION_KEYS: 'k1:' + 'A'.repeat(43) + '='
}

t.test('defaults give the embedded mode', async (t) => {
  const config = loadConfig({})
  t.equal(config.PORT, 3000)
  t.equal(config.HOST, '127.0.0.1')
  t.equal(config.OTP_TTL_SECONDS, 300)
  t.equal(config.SIGNUP, 'open')
  t.same(config.TEST_IDENTIFIERS, [])
  t.equal(config.TOTP_PRIMARY_LOGIN, false, 'an authenticator app alone signs nobody in')
  t.ok(isEmbedded(config))
})

t.test('values are converted from strings and lists are split', async (t) => {
  const config = loadConfig({ PORT: '8080', DEV_OUTBOX: 'true', TEST_IDENTIFIERS: '*@loadtest.example=000000, +1555*=123456', REDIS_URL: 'redis://x' })
  t.equal(config.PORT, 8080)
  t.equal(config.DEV_OUTBOX, true)
  t.same(config.TEST_IDENTIFIERS, ['*@loadtest.example=000000', '+1555*=123456'])
  t.notOk(isEmbedded(config))
})

t.test('an empty variable means the default', async (t) => {
  t.equal(loadConfig({ PORT: '' }).PORT, 3000)
})

t.test('a bad value names the variable and what is expected', async (t) => {
  t.throws(() => loadConfig({ PORT: 'abc' }), new ConfigError('Invalid configuration: PORT: must be integer (TCP port, 0 for a free one)'))
  t.throws(() => loadConfig({ OTP_TTL_SECONDS: '5' }), { message: /^Invalid configuration: OTP_TTL_SECONDS: must be >= 60/ })
  t.throws(() => loadConfig({ SIGNUP: 'maybe' }), { message: /^Invalid configuration: SIGNUP: / })
  t.throws(() => loadConfig({ OTP_PEPPER: 'short' }), { message: /^Invalid configuration: OTP_PEPPER: / })
})

t.test('the delivery queue settings: defaults, and a job key must be 32 bytes of base64', async (t) => {
  const config = loadConfig({})
  t.equal(config.DELIVERY_CONCURRENCY, 50)
  t.equal(sendsInProcess(config), true, 'outside production the API sends its own codes')
  t.equal(config.WORKER_PORT, 3001)
  t.equal(config.DELIVERY_JOB_KEY, undefined)
  t.equal(sendsInProcess(loadConfig({ DELIVERY_WORKER: 'false' })), false)
  const key = Buffer.alloc(32, 7).toString('base64')
  t.equal(loadConfig({ DELIVERY_JOB_KEY: key }).DELIVERY_JOB_KEY, key)
  t.throws(() => loadConfig({ DELIVERY_JOB_KEY: Buffer.alloc(16, 7).toString('base64') }), { message: /^Invalid configuration: DELIVERY_JOB_KEY: / })
  t.throws(() => loadConfig({ DELIVERY_CONCURRENCY: '0' }), { message: /^Invalid configuration: DELIVERY_CONCURRENCY: / })
})

t.test('production refuses to start without its services, keys and providers', async (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), {
    message: 'Invalid configuration: REDIS_URL is required in production, or REDIS_SENTINELS or REDIS_CLUSTER_NODES (one-time codes live in Redis)'
  })
  const names = ['REDIS_URL', 'MONGODB_URL', 'JWT_KEYS', 'OTP_PEPPER', 'SENDGRID_API_KEY', 'EMAIL_FROM', 'VONAGE_API_KEY', 'VONAGE_API_SECRET',
    'SMS_FROM', 'SMS_ALLOWED_COUNTRIES', 'TOTP_ENCRYPTION_KEYS']
  t.same(productionProblems(loadConfig({})).map((problem) => problem.split(' ')[0]).sort(), [...names].sort(), 'the gate\'s whole list')
  for (const name of names) {
    const env: Record<string, string> = { ...productionEnv }
    delete env[name]
    t.throws(() => loadConfig(env), { message: new RegExp(`^Invalid configuration: ${name}( \\(or \\w+\\))? is required in production`) }, name)
  }
  t.throws(() => loadConfig({ ...productionEnv, DEV_OUTBOX: 'true' }), { message: /DEV_OUTBOX=true is refused in production/ })
  t.equal(loadConfig(productionEnv).NODE_ENV, 'production')
  t.equal(sendsInProcess(loadConfig(productionEnv)), false, 'in production the API only queues: workers send')
  t.equal(sendsInProcess(loadConfig({ ...productionEnv, DELIVERY_WORKER: 'true' })), true, 'unless asked')
  t.same(productionProblems(loadConfig(productionEnv)), [])
  const { REDIS_URL: _single, ...clustered } = productionEnv
  t.equal(loadConfig({ ...clustered, REDIS_CLUSTER_NODES: '10.0.0.1:6379,10.0.0.2:6379' }).NODE_ENV, 'production', 'a Redis Cluster instead of REDIS_URL')
})

t.test('Redis by Sentinel, and REDIS_WAIT_REPLICAS: refused when they cannot work', async (t) => {
  const sentinels = { REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_SENTINEL_NAME: 'otp-gate' }
  t.same(loadConfig(sentinels).REDIS_SENTINELS, ['10.0.0.1:26379', '10.0.0.2:26379'])
  t.equal(loadConfig({ ...productionEnv, REDIS_URL: '', ...sentinels }).NODE_ENV, 'production', 'Sentinels instead of REDIS_URL')
  t.throws(() => loadConfig({ REDIS_SENTINELS: '10.0.0.1:26379' }), { message: /^Invalid configuration: REDIS_SENTINEL_NAME is required with REDIS_SENTINELS/ })
  t.throws(() => loadConfig({ ...sentinels, REDIS_CLUSTER_NODES: '10.0.0.3:6379' }), { message: /REDIS_SENTINELS and REDIS_CLUSTER_NODES: set one of them/ })
  t.throws(() => loadConfig({ ...sentinels, REDIS_SENTINELS: '10.0.0.1' }), { message: /"10\.0\.0\.1" is not host:port/ })
  t.equal(loadConfig({}).REDIS_WAIT_REPLICAS, 0, 'no WAIT unless asked')
  t.equal(loadConfig({}).REDIS_WAIT_TIMEOUT_MS, 500)
  t.throws(() => loadConfig({ REDIS_URL: 'redis://r', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '1500' }), { message: /REDIS_WAIT_TIMEOUT_MS: must be below STORE_TIMEOUT_MS/ })
  t.throws(() => loadConfig({ REDIS_WAIT_REPLICAS: '1' }), { message: /REDIS_WAIT_REPLICAS: needs Redis/ })
  t.equal(loadConfig({ REDIS_URL: 'redis://r', REDIS_WAIT_REPLICAS: '1' }).REDIS_WAIT_REPLICAS, 1)
})

t.test('production refuses /metrics open to the network without METRICS_TOKEN', async (t) => {
  const exposed = { ...productionEnv, METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }
  t.throws(() => loadConfig(exposed), { message: /METRICS_TOKEN is required in production when METRICS_HOST is not a loopback address/ })
  t.equal(loadConfig({ ...exposed, METRICS_TOKEN: 't'.repeat(32) }).METRICS_HOST, '0.0.0.0', 'with a token')
  t.equal(loadConfig({ ...productionEnv, METRICS_PORT: '9464' }).METRICS_HOST, '127.0.0.1', 'loopback by default, no token needed')
  t.equal(loadConfig({ ...productionEnv, METRICS_PORT: '9464', METRICS_HOST: '::1' }).METRICS_TOKEN, undefined)
  t.equal(loadConfig({ ...productionEnv, METRICS_HOST: '0.0.0.0' }).METRICS_PORT, undefined, 'no metrics, nothing exposed')
  t.throws(() => loadConfig({ METRICS_TOKEN: 'short' }), { message: /^Invalid configuration: METRICS_TOKEN: / })
})

t.test('.env.example documents every variable with its default', async (t) => {
  const committed = readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
  t.equal(committed, renderEnvExample(), 'regenerate with: npm run config-docs')
  for (const name of Object.keys(ConfigSchema.properties)) t.match(committed, new RegExp(`^${name}=`, 'm'), name)
})

t.test('docs/configuration.md\'s tables are generated from the schema, one row per variable', async (t) => {
  const page = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8')
  t.equal(withConfigTables(page), page, 'regenerate with: npm run config-docs')
  for (const name of Object.keys(ConfigSchema.properties)) t.match(page, new RegExp(`^\\| \`${name}\` \\|`, 'm'), name)
  t.same(Object.values(CONFIG_GROUPS).flatMap((group) => Object.keys(group)).sort(), Object.keys(ConfigSchema.properties).sort(), 'every variable in exactly one group')
})
