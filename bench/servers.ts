import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connectMongo } from '../plugins/mongo.ts'
import { generateSigningKey } from '../src/sessions/tokens.ts'
import { TEST_CODE, TEST_DOMAIN } from './pools.ts'
import { startService, type Service } from './processes.ts'
import { freePort } from '../test/helpers/disposable-server.ts'

export interface ServerSettings {
  /** the fake SendGrid the app's worker sends queued codes to */
  sendgridUrl: string
  redisUrl: string
  mongoUrl: string
  path: string
  /** where the one-worker app writes a .cpuprofile on exit; null: no profile */
  profileDirectory: string | null
  /** the variables that name Redis instead of REDIS_URL (a Sentinel set's) */
  redisEnv?: Record<string, string>
}

const root = new URL('../', import.meta.url)
const JSON_KEYS = JSON.stringify([generateSigningKey('bench')])
const LIMIT_NOBODY_REACHES = 100_000_000

/**
 * Production mode, as deployed, with test identifiers. The per-IP limiter runs (its Redis round trip is part of
 * every budget) with budgets no load test reaches. A load test has one writer per document, so the MongoDB
 * adapters behave on the test server (FerretDB) as on MongoDB; FerretDB refuses TTL indexes, so the processes
 * load the tests' shims, which make them without their expiry (test/helpers/ferretdb-shims.ts).
 */
export function serverEnv (settings: ServerSettings, port: number, workers: number): Record<string, string> {
  return {
    PATH: settings.path,
    NODE_OPTIONS: `--import=${new URL('test/helpers/ferretdb-shims.ts', root).href}`,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    WORKERS: String(workers),
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '2000',
    ...(settings.redisEnv ?? { REDIS_URL: settings.redisUrl }),
    MONGODB_URL: settings.mongoUrl,
    JWT_KEYS: JSON_KEYS,
    // a URL, as production wants (its discovery document is served from the issuer's own origin only)
    JWT_ISSUER: 'https://auth.bench.example',
    OTP_PEPPER: 'bench-pepper-bench-pepper-bench-pepper',
    TOTP_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    // test identifiers get no message; other addresses go through the queue to the fake SendGrid (email) only
    SENDGRID_API_KEY: 'SG.bench-fake',
    SENDGRID_BASE_URL: settings.sendgridUrl,
    EMAIL_FROM: `bench@${TEST_DOMAIN}`,
    VONAGE_API_KEY: 'bench-unused',
    VONAGE_API_SECRET: 'bench-unused',
    SMS_FROM: 'otpgate',
    SMS_ALLOWED_COUNTRIES: 'US',
    TEST_IDENTIFIERS: `*@${TEST_DOMAIN}=${TEST_CODE}`,
    ALLOW_TEST_IDENTIFIERS: 'true',
    TEST_IDENTIFIERS_SKIP_QUOTA: 'true',
    // codes are sent by the separate delivery worker (startDeliveryWorker)
    DELIVERY_WORKER: 'false',
    RATE_LIMIT_START_PER_MINUTE: String(LIMIT_NOBODY_REACHES),
    RATE_LIMIT_VERIFY_PER_MINUTE: String(LIMIT_NOBODY_REACHES),
    RATE_LIMIT_REFRESH_PER_MINUTE: String(LIMIT_NOBODY_REACHES),
    RATE_LIMIT_DEFAULT_PER_MINUTE: String(LIMIT_NOBODY_REACHES)
  }
}
/** A directory per server, so the app's profile and its floor's are told apart and compared. */
const profileArguments = (directory: string, server: 'app' | 'floor') => ['--cpu-prof', '--cpu-prof-dir', join(directory, server)]

// the children run in bench/, where no .env can reach them; src/server.ts reads one from its working directory
const cwd = fileURLToPath(new URL('bench/', root))
const script = (path: string) => fileURLToPath(new URL(path, root))

/** `metricsPort`: the app counts and serves /metrics there (the metrics comparison's metered app); no profile then. */
export async function startApp (
  settings: ServerSettings, workers: number, metricsPort?: number, extraEnv: Record<string, string> = {}
): Promise<Service> {
  const port = await freePort()
  const profiled = settings.profileDirectory !== null && workers === 1 && metricsPort === undefined
  const profile = profiled && Object.keys(extraEnv).length === 0 ? profileArguments(settings.profileDirectory!, 'app') : []
  const env = {
    ...serverEnv(settings, port, workers),
    ...(metricsPort === undefined ? {} : { METRICS_PORT: String(metricsPort) }),
    ...extraEnv
  }
  const name = `app (${workers} worker${workers > 1 ? 's' : ''}${metricsPort === undefined ? '' : ', metrics'})`
  return startService(name, [...profile, script('src/server.ts')], env, { cwd, port, readyPath: '/health/ready' })
}

/**
 * The delivery worker, a process of its own (`npm run worker`), as a high-traffic deployment runs it: the API
 * (DELIVERY_WORKER=false) only queues codes, this process sends them to the fake SendGrid.
 */
export async function startDeliveryWorker (
  settings: ServerSettings, extraEnv: Record<string, string> = {}
): Promise<Service> {
  const port = await freePort()
  // a start run leaves some 40,000 codes behind it (warm-up and run, the worker stopped meanwhile): at the default
  // of 50 at once and SendGrid's 150 ms it sends ~200 a second, three minutes a run; at 200 it is bound by its CPU
  const env = { ...serverEnv(settings, 0, 1), WORKER_PORT: String(port), DELIVERY_CONCURRENCY: '200', ...extraEnv }
  return startService('delivery worker', [script('src/worker.ts')], env, { cwd, port, readyPath: '/health/ready' })
}

export async function startFloor (settings: ServerSettings): Promise<Service> {
  const port = await freePort()
  const profile = settings.profileDirectory === null ? [] : profileArguments(settings.profileDirectory, 'floor')
  return startService('floor', [...profile, script('bench/floor-server.ts')], serverEnv(settings, port, 1), { cwd, port, readyPath: '/health' })
}

export async function dropBenchDatabase (settings: ServerSettings): Promise<void> {
  const connection = await connectMongo(settings.mongoUrl, 5000)
  await connection.dropDatabase()
  await connection.close()
}
