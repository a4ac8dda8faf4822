import { Type } from 'typebox'

// Every setting the service reads, by group: its type, default, bounds and meaning. src/config.ts assembles the
// groups into ConfigSchema; src/config/config-docs.ts renders .env.example and docs/configuration.md from them.

const csv = (description: string) =>
  Type.Codec(Type.String({ default: '', description }))
    .Decode((value) => value.split(',').map((item) => item.trim()).filter(Boolean))
    .Encode((items) => items.join(','))

const seconds = (fallback: number, minimum: number, maximum: number, description: string) =>
  Type.Integer({ default: fallback, minimum, maximum, description })

const optionalString = (description: string, options: Record<string, unknown> = {}) =>
  Type.Optional(Type.String({ minLength: 1, description, ...options }))

const server = {
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'development', description: 'production refuses to start without what production needs (see productionProblems)'
  }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'interface to listen on' }),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535, description: 'TCP port, 0 for a free one' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)), {
    default: 'info', description: 'pino log level'
  }),
  WORKERS: Type.Integer({ default: 1, minimum: 1, maximum: 64, description: 'server processes sharing the port (node:cluster)' }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000, description: 'time in-flight requests get on SIGTERM' }),
  REQUEST_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000, description: 'a request not answered by then is cut' }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({
    default: 72_000, minimum: 1000, maximum: 600_000, description: 'idle keep-alive connections close after this (above a load balancer\'s)'
  }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({
    default: 1000, minimum: 10, maximum: 60_000, description: 'above this mean event-loop delay requests are shed with 503'
  }),
  MAX_HEAP_USED_MB: Type.Integer({ default: 1536, minimum: 64, maximum: 65_536, description: 'above this heap use requests are shed with 503' }),
  PUBLIC_BASE_URL: optionalString('public URL of the API, used in the OpenAPI servers list', { format: 'uri' })
}

const stores = {
  REDIS_URL: optionalString('redis:// URL for codes, limits, revocations and the queue; unset = in-process (embedded mode)'),
  REDIS_CLUSTER_NODES: csv('host:port list; when set, Redis is used as a Cluster'),
  MONGODB_URL: optionalString('mongodb:// URL for users and sessions; unset = in-process (embedded mode)'),
  STORE_TIMEOUT_MS: Type.Integer({ default: 1500, minimum: 100, maximum: 30_000, description: 'budget of one Redis or MongoDB call before answering 503' })
}

const otp = {
  OTP_PEPPER: optionalString('HMAC key for code hashes and key names, at least 32 characters', { minLength: 32 }),
  OTP_PEPPER_PREVIOUS: optionalString('previous OTP_PEPPER, still accepted while codes issued with it live', { minLength: 32 }),
  OTP_CODE_LENGTH: Type.Integer({ default: 6, minimum: 4, maximum: 10, description: 'digits of a code' }),
  OTP_TTL_SECONDS: seconds(300, 60, 600, 'lifetime of a code'),
  OTP_MAX_ATTEMPTS: Type.Integer({ default: 5, minimum: 1, maximum: 20, description: 'wrong codes before a challenge is destroyed' }),
  OTP_RESEND_COOLDOWN_SECONDS: seconds(30, 0, 3600, 'wait between two codes per destination and purpose'),
  OTP_SEND_QUOTA: Type.Integer({ default: 5, minimum: 1, maximum: 1000, description: 'codes per destination per OTP_SEND_QUOTA_WINDOW_SECONDS' }),
  OTP_SEND_QUOTA_WINDOW_SECONDS: seconds(900, 1, 86_400, 'window of OTP_SEND_QUOTA'),
  OTP_DAILY_QUOTA: Type.Integer({ default: 20, minimum: 1, maximum: 10_000, description: 'codes per destination per 24 hours, on top of OTP_SEND_QUOTA' }),
  OTP_THROTTLE_AFTER_FAILURES: Type.Integer({
    default: 5, minimum: 0, maximum: 100, description: 'wrong codes in a row per destination before each further one makes it wait (1 s, doubling)'
  }),
  OTP_THROTTLE_MAX_SECONDS: seconds(900, 1, 86_400, 'longest wait between two verifications of a throttled destination'),
  SUSPEND_AFTER_FAILURES: Type.Integer({
    default: 100, minimum: 10, maximum: 100_000, description: 'wrong codes per destination (or authenticator user) within 24 hours that suspend code checks until the oldest is 24 hours old; meanwhile code requests send a sign-in link'
  }),
  SIGNUP: Type.Union([Type.Literal('open'), Type.Literal('closed')], {
    default: 'open', description: 'closed: unknown identifiers get the same answer but no code'
  }),
  DEFAULT_REGION: Type.String({ default: 'US', pattern: '^[A-Z]{2}$', description: 'region for national phone formats' })
}

const tokens = {
  JWT_KEYS: optionalString('JSON array of Ed25519 private JWKs with kid; the first signs, all verify; unset = an ephemeral key'),
  JWT_ISSUER: Type.String({ default: 'otp-gate', minLength: 1, description: 'iss of access tokens' }),
  JWT_AUDIENCE: Type.String({ default: 'otp-gate', minLength: 1, description: 'aud of access tokens' }),
  ACCESS_TOKEN_TTL_SECONDS: seconds(900, 60, 86_400, 'access token lifetime'),
  REFRESH_TOKEN_TTL_SECONDS: seconds(2_592_000, 300, 31_536_000, 'sliding session lifetime: a session not refreshed for this long ends'),
  REFRESH_TOKEN_KEY: optionalString(
    'HMAC key that authenticates refresh tokens and derives their successors, at least 32 characters; unset = derived from OTP_PEPPER, or one per process without it',
    { minLength: 32 }
  ),
  SESSION_MAX_AGE_SECONDS: seconds(7_776_000, 300, 31_536_000, 'absolute session lifetime: no refresh keeps a session past this age'),
  SESSION_IDLE_TIMEOUT_SECONDS: seconds(0, 0, 31_536_000, 'a session not refreshed for this long ends, if shorter than REFRESH_TOKEN_TTL_SECONDS; 0 = off'),
  REFRESH_REUSE_GRACE_SECONDS: seconds(
    10, 0, 60, 'a used refresh token presented again this soon gets the same successor pair (parallel tabs), not a revocation; 0 = none'
  )
}

/** Browser apps on other origins (CORS) and the httpOnly refresh cookie: docs/frontend.md. */
const browser = {
  CORS_ORIGINS: csv('origins whose pages may call the API: exact (https://app.example.com), one wildcard label (https://*.example.com), or * (no cookies); empty = none'),
  CORS_MAX_AGE_SECONDS: seconds(600, 0, 86_400, 'how long a browser may cache a preflight answer (Access-Control-Max-Age)'),
  SESSION_COOKIE: Type.Union([Type.Literal('off'), Type.Literal('on')], {
    default: 'off', description: 'on: browser requests (an Origin that is the API\'s own or in CORS_ORIGINS) get the refresh token in an httpOnly cookie, never in the body'
  }),
  SESSION_COOKIE_SAMESITE: Type.Union([Type.Literal('lax'), Type.Literal('strict'), Type.Literal('none')], {
    default: 'lax', description: 'SameSite of the refresh and device cookies; none makes them Secure always'
  }),
  DEVICE_TOKEN_TTL_SECONDS: seconds(
    7_776_000, 86_400, 31_536_000,
    'lifetime of a device token (issued at each sign-in with a code or link; with SESSION_COOKIE=on an httpOnly cookie for browsers): code requests that show one use the owner\'s own budget, which anonymous requests cannot spend'
  )
}

const totp = {
  TOTP_ENCRYPTION_KEYS: csv('kid:base64 list of 32-byte AES-256-GCM keys for authenticator secrets; the first encrypts, all decrypt'),
  MFA: Type.Union([Type.Literal('required_when_enrolled'), Type.Literal('off')], {
    default: 'required_when_enrolled', description: 'ask users with an authenticator app for a code after the email/SMS code'
  }),
  TOTP_PRIMARY_LOGIN: Type.Boolean({
    default: false, description: 'POST /v1/auth/totp: an authenticator code alone signs in (one factor); false = that route answers 404'
  }),
  TOTP_THROTTLE_AFTER_FAILURES: Type.Integer({
    default: 5, minimum: 0, maximum: 100, description: 'wrong authenticator codes in a row per user before each further one makes it wait (1 s, doubling)'
  }),
  TOTP_THROTTLE_MAX_SECONDS: seconds(900, 1, 86_400, 'longest wait between two authenticator code checks of a throttled user')
}

/** What messages say and look like. */
const messages = {
  APP_NAME: Type.String({ default: 'otp-gate', minLength: 1, description: 'product name in messages and authenticator apps' }),
  BRAND_COLOR: Type.String({ default: '#1d4ed8', pattern: '^#[0-9a-fA-F]{6}$', description: 'accent colour of emails, #rrggbb' }),
  BRAND_LOGO_URL: optionalString('https URL of the logo shown atop emails; unset = the app name in text', { format: 'uri', pattern: '^https://' }),
  SUPPORT_EMAIL: optionalString('address that emails and notices tell users to contact; unset = no address shown', { format: 'email' }),
  EMAIL_TEMPLATES_DIR: optionalString('folder of Handlebars templates (<locale>/<kind>.<part>.hbs) replacing the built-in ones'),
  SENDGRID_TEMPLATE_ID: optionalString('SendGrid dynamic template of code emails: d-… for all, or per language en:d-…,fr:d-…', {
    pattern: '^\\s*([a-zA-Z]{2,3}:)?d-[A-Za-z0-9]+\\s*(,\\s*([a-zA-Z]{2,3}:)?d-[A-Za-z0-9]+\\s*)*$'
  }),
  MAGIC_LINK_URL: optionalString('page that signs in from a link; code emails add MAGIC_LINK_URL#challengeId=…&code=…', { format: 'uri', pattern: '^https?://[^#]+$' }),
  IDENTIFIER_UNDO_URL: optionalString('page that takes back an email or phone change; the notice to the replaced one adds IDENTIFIER_UNDO_URL#token=… (valid 7 days, once); unset = no link', { format: 'uri', pattern: '^https?://[^#]+$' }),
  SMS_ALLOW_MULTIPART: Type.Boolean({ default: false, description: 'accept SMS templates that need two segments or UCS-2 (refused at start-up otherwise)' }),
  WEBOTP_DOMAIN: optionalString('domain for the Web OTP line (@domain #code) of SMS texts')
}

const delivery = {
  SENDGRID_API_KEY: optionalString('SendGrid API key; unset = email codes off (503), or to the dev outbox in the embedded mode'),
  EMAIL_FROM: optionalString('sender address of code emails'),
  EMAIL_FROM_NAME: optionalString('sender name of code emails'),
  VONAGE_API_KEY: optionalString('Vonage API key; unset = SMS codes off (503), or to the dev outbox in the embedded mode'),
  VONAGE_API_SECRET: optionalString('Vonage API secret'),
  SMS_FROM: optionalString('SMS sender id'),
  DELIVERY_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100, maximum: 60_000, description: 'budget of one provider call' }),
  DELIVERY_BREAKER_THRESHOLD: Type.Integer({
    default: 5, minimum: 1, maximum: 1000, description: 'provider failures in a row that open a channel\'s circuit in every process (503 for everyone)'
  }),
  DELIVERY_BREAKER_OPEN_SECONDS: seconds(30, 1, 3600, 'how long an open circuit refuses a channel'),
  DELIVERY_JOB_KEY: optionalString(
    'base64 of 32 random bytes: AES-256-GCM key of queued delivery jobs; unset = derived from OTP_PEPPER (HKDF)',
    { pattern: '^[A-Za-z0-9+/_-]{43}=?$' }
  ),
  DELIVERY_CONCURRENCY: Type.Integer({ default: 50, minimum: 1, maximum: 1000, description: 'delivery jobs one process sends at once' }),
  DELIVERY_RETRY_BASE_MS: Type.Integer({
    default: 1000, minimum: 10, maximum: 60_000, description: 'first retry delay of a transient delivery failure; doubles per attempt, with jitter'
  }),
  DELIVERY_WORKER: Type.Optional(Type.Boolean({
    description: 'the API process also sends queued codes; unset = true, except false when NODE_ENV=production (run `npm run worker`)'
  })),
  WORKER_PORT: Type.Integer({ default: 3001, minimum: 0, maximum: 65535, description: 'health port of `npm run worker`, 0 for a free one' }),
  DEV_OUTBOX: Type.Boolean({
    default: false, description: 'deliver every channel to the dev outbox, readable by anyone at GET /v1/dev/outbox (refused in production)'
  })
}

const limits = {
  TRUST_PROXY: Type.String({ default: 'false', description: 'whether X-Forwarded-For names the client: false, true, a hop count or proxy CIDRs' }),
  RATE_LIMIT_ALLOWLIST: csv('IPs/CIDRs exempt from the per-IP limits (a load generator); per-destination limits still apply'),
  RATE_LIMIT_START_PER_MINUTE: Type.Integer({ default: 10, minimum: 1, description: 'code requests per client IP per minute' }),
  RATE_LIMIT_VERIFY_PER_MINUTE: Type.Integer({ default: 30, minimum: 1, description: 'code checks per client IP per minute' }),
  RATE_LIMIT_REFRESH_PER_MINUTE: Type.Integer({ default: 60, minimum: 1, description: 'refreshes per client IP per minute' }),
  RATE_LIMIT_DEFAULT_PER_MINUTE: Type.Integer({ default: 300, minimum: 1, description: 'other requests per client IP per minute' }),
  SMS_ALLOWED_COUNTRIES: csv('ISO 3166 codes SMS may go to; empty = all (not allowed in production)'),
  SMS_COUNTRY_HOURLY_BUDGET: Type.Integer({ default: 1000, minimum: 1, description: 'SMS per destination country per hour' }),
  SMS_COUNTRY_IP_SHARE: Type.Number({
    default: 0.1, exclusiveMinimum: 0, maximum: 1, description: 'part of SMS_COUNTRY_HOURLY_BUDGET one client IP may spend (1 = no per-IP share)'
  }),
  SMS_FRAUD_WINDOW_SECONDS: seconds(
    3600, 60, 86_400, 'SMS-pumping guard: sliding window of the sent and verified counts per number range and country, and of otp_conversion_ratio'
  ),
  SMS_FRAUD_MIN_SENDS: Type.Integer({ default: 30, minimum: 1, maximum: 1_000_000, description: 'codes sent to a number range within the window before its conversion is judged' }),
  SMS_FRAUD_MIN_CONVERSION: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'verified ÷ sent below this blocks a number range; 0 = never' }),
  SMS_FRAUD_BLOCK_SECONDS: seconds(3600, 1, 604_800, 'how long a blocked number range is refused codes'),
  SMS_FRAUD_COUNTRY_ALERT_PREFIXES: Type.Integer({
    default: 5, minimum: 0, maximum: 100_000, description: 'this many number ranges of one country blocked at once raise an alert for an operator (log line, metric); a country is never blocked whole; 0 = never'
  }),
  SMS_FRAUD_HISTORY_DAYS: Type.Integer({ default: 30, minimum: 0, maximum: 365, description: 'a number range with verified codes on earlier days within this many is never blocked; 0 = no exemption' }),
  SMS_FRAUD_HISTORY_MIN_VERIFIED: Type.Integer({ default: 3, minimum: 1, maximum: 1_000_000, description: 'the verified codes (on days before today) that give a number range that history' }),
  SMS_FRAUD_ALLOW_PREFIXES: csv('E.164 prefixes (+4479…) the conversion guard never counts or blocks, e.g. your own test range')
}

/** Seeing the service run: Prometheus metrics and OpenTelemetry traces. */
const observability = {
  METRICS_PORT: Type.Optional(Type.Integer({
    minimum: 0, maximum: 65535, description: 'serve GET /metrics (Prometheus) on this port, never the API\'s; unset = no metrics'
  })),
  METRICS_HOST: Type.String({
    default: '127.0.0.1', minLength: 1, description: 'interface the metrics listener binds, not HOST: a public API does not make /metrics public'
  }),
  METRICS_TOKEN: optionalString(
    'bearer token GET /metrics then requires (Authorization: Bearer …), at least 32 characters; required in production when METRICS_HOST is not loopback',
    { minLength: 32 }
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString(
    'OTLP/HTTP endpoint of an OpenTelemetry collector, e.g. http://127.0.0.1:4318; unset = no traces', { format: 'uri' }
  ),
  OTEL_SERVICE_NAME: Type.String({ default: 'otp-gate', minLength: 1, description: 'service.name of the traces' })
}

const audit = {
  AUDIT_RETENTION_DAYS: Type.Integer({ default: 90, minimum: 1, maximum: 3650, description: 'how long security events (GET /v1/me/activity) are kept' }),
  AUDIT_WEBHOOK_URL: optionalString(
    'security events are also POSTed here in signed JSON batches (X-OtpGate-Signature), through a queue of their own', { format: 'uri' }
  ),
  AUDIT_WEBHOOK_SECRET: optionalString('HMAC-SHA256 key of the X-OtpGate-Signature header, at least 32 characters; required with AUDIT_WEBHOOK_URL', { minLength: 32 }),
  AUDIT_WEBHOOK_FLUSH_MS: Type.Integer({
    default: 5000, minimum: 10, maximum: 300_000, description: 'security events are gathered this long into one webhook batch'
  }),
  AUDIT_WEBHOOK_BATCH_MAX: Type.Integer({
    default: 100, minimum: 1, maximum: 1000, description: 'user events per webhook POST at most; a full batch is queued at once'
  }),
  AUDIT_WEBHOOK_TIMEOUT_MS: Type.Integer({ default: 3000, minimum: 100, maximum: 60_000, description: 'budget of one webhook POST' }),
  AUDIT_WEBHOOK_CONCURRENCY: Type.Integer({
    default: 2, minimum: 1, maximum: 100, description: 'webhook POSTs one process makes at once, from a queue apart from the codes\''
  }),
  AUDIT_WEBHOOK_MAX_ATTEMPTS: Type.Integer({
    default: 8, minimum: 1, maximum: 20, description: 'tries of one webhook batch, the first included; a batch is dropped an hour after it was queued'
  }),
  AUDIT_WEBHOOK_RETRY_BASE_MS: Type.Integer({
    default: 5000, minimum: 10, maximum: 600_000, description: 'first wait before a webhook batch is tried again, then doubling, up to 5 minutes'
  })
}

const admin = {
  ADMIN_API_KEYS: csv('name=sha256:<hex> list of admin API keys (SHA-256 of each key, made by npm run admin-key -- <name>); unset = no /v1/admin routes'),
  RATE_LIMIT_ADMIN_PER_MINUTE: Type.Integer({ default: 600, minimum: 1, maximum: 100_000, description: 'admin API requests per client IP per minute' })
}

/** Passkeys (WebAuthn): docs/passkeys.md. Off until WEBAUTHN_RP_ID is set. */
const passkeys = {
  WEBAUTHN_RP_ID: optionalString('the registrable domain passkeys are bound to (example.com), a suffix of every WEBAUTHN_ORIGINS host; unset = no passkey routes (404)', {
    pattern: '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$'
  }),
  WEBAUTHN_RP_NAME: optionalString('the name browsers show when creating a passkey; unset = APP_NAME'),
  WEBAUTHN_ORIGINS: csv('exact origins of the pages that create and use passkeys; empty = the API\'s own (PUBLIC_BASE_URL) and the exact CORS_ORIGINS entries')
}

const loadTest = {
  TEST_IDENTIFIERS: csv('pattern=code pairs with fixed codes, e.g. *@loadtest.example=000000,+1201555*=123456'),
  ALLOW_TEST_IDENTIFIERS: Type.Boolean({ default: false, description: 'honour TEST_IDENTIFIERS in production' }),
  TEST_IDENTIFIERS_SKIP_QUOTA: Type.Boolean({ default: false, description: 'lift cooldown and quotas for test identifiers' })
}

/** Where tests point the provider SDKs at fakes on loopback; never set in a deployment. */
const testing = {
  SENDGRID_BASE_URL: optionalString('SendGrid API base URL: tests only, to reach a fake', { format: 'uri' }),
  VONAGE_BASE_URL: optionalString('Vonage REST base URL: tests only, to reach a fake', { format: 'uri' })
}

/** The settings by domain, in the order .env.example and the README's table list them. */
export const CONFIG_GROUPS = {
  server,
  stores,
  otp,
  tokens,
  browser,
  totp,
  passkeys,
  messages,
  delivery,
  limits,
  observability,
  audit,
  admin,
  loadTest,
  testing
}
