import { Type, type StaticDecode, type TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { productionProblems } from './production-problems.ts'

const csv = (description: string) =>
  Type.Codec(Type.String({ default: '', description }))
    .Decode((value) => value.split(',').map((item) => item.trim()).filter(Boolean))
    .Encode((items) => items.join(','))

const seconds = (fallback: number, minimum: number, maximum: number, description: string) =>
  Type.Integer({ default: fallback, minimum, maximum, description })

const optionalString = (description: string, options: Record<string, unknown> = {}) =>
  Type.Optional(Type.String({ minLength: 1, description, ...options }))

/**
 * Every setting the service reads, in one schema: validated at start-up, documented in .env.example,
 * and the `Config` type is what this schema decodes to.
 */
export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], { default: 'development' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'interface to listen on' }),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535, description: 'TCP port, 0 for a free one' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)), { default: 'info' }),
  WORKERS: Type.Integer({ default: 1, minimum: 1, maximum: 64, description: 'node:cluster workers' }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000 }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ default: 72_000, minimum: 1000, maximum: 600_000 }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ default: 1000, minimum: 10, maximum: 60_000, description: 'above this mean event-loop delay requests are shed with 503' }),
  MAX_HEAP_USED_MB: Type.Integer({ default: 1536, minimum: 64, maximum: 65_536, description: 'above this heap use requests are shed with 503' }),
  PUBLIC_BASE_URL: optionalString('public URL of the API, used in the OpenAPI servers list', { format: 'uri' }),

  REDIS_URL: optionalString('redis:// URL; unset = in-process stores (embedded mode)'),
  REDIS_CLUSTER_NODES: csv('host:port list; when set, Redis is used as a Cluster'),
  MONGODB_URL: optionalString('mongodb:// URL; unset = in-process stores (embedded mode)'),
  MONGODB_COMPAT: Type.Union([Type.Literal('auto'), Type.Literal('mongodb'), Type.Literal('ferretdb')], {
    default: 'auto',
    description: 'server semantics: mongodb (atomic filtered updates) or ferretdb (FerretDB 1.x workarounds); auto asks the server'
  }),
  STORE_TIMEOUT_MS: Type.Integer({ default: 1500, minimum: 100, maximum: 30_000, description: 'fail-fast budget for one Redis/MongoDB call' }),

  OTP_PEPPER: optionalString('HMAC key for code hashes and key names, at least 32 characters', { minLength: 32 }),
  OTP_PEPPER_PREVIOUS: optionalString('previous OTP_PEPPER, still accepted while codes issued with it live', { minLength: 32 }),
  OTP_CODE_LENGTH: Type.Integer({ default: 6, minimum: 4, maximum: 10 }),
  OTP_TTL_SECONDS: seconds(300, 60, 600, 'lifetime of a code'),
  OTP_MAX_ATTEMPTS: Type.Integer({ default: 5, minimum: 1, maximum: 20 }),
  OTP_RESEND_COOLDOWN_SECONDS: seconds(30, 0, 3600, 'per destination and purpose'),
  OTP_SEND_QUOTA: Type.Integer({ default: 5, minimum: 1, maximum: 1000, description: 'codes per destination per window' }),
  OTP_SEND_QUOTA_WINDOW_SECONDS: seconds(900, 1, 86_400, 'window of OTP_SEND_QUOTA'),
  OTP_LOCKOUT_THRESHOLD: Type.Integer({ default: 10, minimum: 1, maximum: 1000, description: 'failed verifications per destination per window' }),
  OTP_LOCKOUT_WINDOW_SECONDS: seconds(3600, 1, 86_400, 'window of OTP_LOCKOUT_THRESHOLD'),
  OTP_LOCKOUT_SECONDS: seconds(3600, 1, 86_400, 'how long a destination stays locked'),

  SIGNUP: Type.Union([Type.Literal('open'), Type.Literal('closed')], { default: 'open' }),
  DEFAULT_REGION: Type.String({ default: 'US', pattern: '^[A-Z]{2}$', description: 'region for national phone formats' }),

  JWT_KEYS: optionalString('JSON array of Ed25519 private JWKs with kid; the first signs, all verify'),
  TOTP_ENCRYPTION_KEYS: csv('kid:base64 list of 32-byte AES-256-GCM keys for authenticator secrets; the first encrypts, all decrypt'),
  MFA: Type.Union([Type.Literal('required_when_enrolled'), Type.Literal('off')], { default: 'required_when_enrolled', description: 'ask users with an authenticator app for a code after the email/SMS code' }),
  TOTP_PRIMARY_LOGIN: Type.Boolean({ default: false, description: 'POST /v1/auth/totp: an authenticator code alone signs in (one factor); false = that route answers 404' }),
  JWT_ISSUER: Type.String({ default: 'otp-gate', minLength: 1 }),
  JWT_AUDIENCE: Type.String({ default: 'otp-gate', minLength: 1 }),
  ACCESS_TOKEN_TTL_SECONDS: seconds(900, 60, 86_400, 'access token lifetime'),
  REFRESH_TOKEN_TTL_SECONDS: seconds(2_592_000, 300, 31_536_000, 'sliding session lifetime: a session not refreshed for this long ends'),
  REFRESH_TOKEN_KEY: optionalString('HMAC key that authenticates refresh tokens and derives their successors, at least 32 characters; unset = derived from OTP_PEPPER, or one per process without it', { minLength: 32 }),
  SESSION_MAX_AGE_SECONDS: seconds(7_776_000, 300, 31_536_000, 'absolute session lifetime: no refresh keeps a session past this age'),
  SESSION_IDLE_TIMEOUT_SECONDS: seconds(0, 0, 31_536_000, 'a session not refreshed for this long ends, if shorter than REFRESH_TOKEN_TTL_SECONDS; 0 = off'),
  REFRESH_REUSE_GRACE_SECONDS: seconds(10, 0, 60, 'a used refresh token presented again this soon gets the same successor pair (parallel tabs), not a revocation; 0 = none'),

  APP_NAME: Type.String({ default: 'otp-gate', minLength: 1 }),
  WEBOTP_DOMAIN: optionalString('domain for the Web OTP line of SMS texts'),
  SENDGRID_API_KEY: optionalString('SendGrid API key; unset = email codes off (503), or to the dev outbox in the embedded mode'),
  SENDGRID_BASE_URL: optionalString('SendGrid API base URL (tests point it at a fake)', { format: 'uri' }),
  EMAIL_FROM: optionalString('sender address of code emails'),
  EMAIL_FROM_NAME: optionalString('sender name of code emails'),
  VONAGE_API_KEY: optionalString('Vonage API key; unset = SMS codes off (503), or to the dev outbox in the embedded mode'),
  VONAGE_API_SECRET: optionalString('Vonage API secret'),
  VONAGE_BASE_URL: optionalString('Vonage REST base URL (tests point it at a fake)', { format: 'uri' }),
  SMS_FROM: optionalString('SMS sender id'),
  DELIVERY_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100, maximum: 60_000 }),
  DELIVERY_RETRIES: Type.Integer({ default: 2, minimum: 0, maximum: 5 }),
  DELIVERY_BREAKER_THRESHOLD: Type.Integer({ default: 5, minimum: 1, maximum: 1000, description: 'consecutive failed deliveries that open a channel\'s circuit (503 for everyone)' }),
  DELIVERY_BREAKER_OPEN_SECONDS: seconds(30, 1, 3600, 'how long an open circuit refuses a channel'),
  DELIVERY_JOB_KEY: optionalString('base64 of 32 random bytes: AES-256-GCM key of queued delivery jobs; unset = derived from OTP_PEPPER (HKDF)', { pattern: '^[A-Za-z0-9+/_-]{43}=?$' }),
  DELIVERY_CONCURRENCY: Type.Integer({ default: 50, minimum: 1, maximum: 1000, description: 'delivery jobs one process sends at once' }),
  DELIVERY_RETRY_BASE_MS: Type.Integer({ default: 1000, minimum: 10, maximum: 60_000, description: 'first retry delay of a transient delivery failure; doubles per attempt, with jitter' }),
  DELIVERY_WORKER: Type.Boolean({ default: true, description: 'the API process also sends queued codes; false = only `npm run worker` processes do' }),
  WORKER_PORT: Type.Integer({ default: 3001, minimum: 0, maximum: 65535, description: 'health port of `npm run worker`, 0 for a free one' }),
  DEV_OUTBOX: Type.Boolean({ default: false, description: 'deliver every channel to the dev outbox, readable by anyone at GET /v1/dev/outbox (refused in production)' }),
  TEST_IDENTIFIERS: csv('pattern=code pairs, e.g. *@loadtest.example=000000,+1201555*=123456'),
  ALLOW_TEST_IDENTIFIERS: Type.Boolean({ default: false, description: 'honour TEST_IDENTIFIERS in production' }),
  TEST_IDENTIFIERS_SKIP_QUOTA: Type.Boolean({ default: false, description: 'lift cooldown and quota for test identifiers' }),

  TRUST_PROXY: Type.String({ default: 'false', description: 'false, true, a hop count or a CIDR list' }),
  RATE_LIMIT_ALLOWLIST: csv('IPs/CIDRs that bypass the per-IP limits'),
  RATE_LIMIT_START_PER_MINUTE: Type.Integer({ default: 10, minimum: 1 }),
  RATE_LIMIT_VERIFY_PER_MINUTE: Type.Integer({ default: 30, minimum: 1 }),
  RATE_LIMIT_REFRESH_PER_MINUTE: Type.Integer({ default: 60, minimum: 1 }),
  RATE_LIMIT_DEFAULT_PER_MINUTE: Type.Integer({ default: 300, minimum: 1 }),
  SMS_ALLOWED_COUNTRIES: csv('ISO 3166 codes SMS may go to; empty = all (not allowed in production)'),
  SMS_COUNTRY_HOURLY_BUDGET: Type.Integer({ default: 1000, minimum: 1, description: 'SMS per destination country per hour' })
})

export type Config = StaticDecode<typeof ConfigSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

function describe (error: { instancePath: string, message: string, params: Record<string, unknown> }, schema: TSchema): string {
  const name = error.instancePath.slice(1) || String((error.params.requiredProperties as string[] | undefined)?.[0] ?? 'config')
  const property = (schema as { properties: Record<string, TSchema & { description?: string }> }).properties[name]
  const hint = property?.description ? ` (${property.description})` : ''
  return `${name}: ${error.message}${hint}`
}

/** Reads, converts and validates the environment; throws ConfigError with one line naming the variable. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const known = Object.keys(ConfigSchema.properties)
  // an empty variable means unset, so `.env.example` can be copied as it is
  const input = Object.fromEntries(known.filter((key) => env[key] !== undefined && env[key] !== '').map((key) => [key, env[key]]))
  const value = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, input))
  const [first] = Value.Errors(ConfigSchema, value)
  if (first) throw new ConfigError(`Invalid configuration: ${describe(first as never, ConfigSchema)}`)
  const config = Value.Decode(ConfigSchema, value)
  if (config.NODE_ENV === 'production') {
    const [problem] = productionProblems(config)
    if (problem) throw new ConfigError(`Invalid configuration: ${problem}`)
  }
  return config
}

/** True when no external store is configured: everything runs in-process. */
export const isEmbedded = (config: Config): boolean => config.REDIS_URL === undefined && config.REDIS_CLUSTER_NODES.length === 0 && config.MONGODB_URL === undefined

/**
 * The process's config, for an entry point: the environment over an optional `.env` beside the process; a bad
 * value ends the process with one line, `<name>: <what is wrong>`.
 */
export function readProcessConfig (name: string): Config {
  try {
    // an optional .env beside the process; real environment variables win
    try { process.loadEnvFile() } catch (error) { if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error }
    return loadConfig(process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${name}: ${error.message}\n`)
    process.exit(1)
  }
}
