// `npm run bench`: the API in production mode against the Redis and MongoDB-wire server of the environment
// (REDIS_URL, MONGODB_URL), autocannon scenarios against it and against bare-Fastify floors, a 2-worker pass and
// an enumeration-timing probe. Results go to the terminal and to bench/results/latest.{md,json}.
//   BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 2), BENCH_CONNECTIONS (100),
//   BENCH_ONLY=me,floor-mongo-read,enumeration,workers (a subset; nothing is written to bench/results),
//   BENCH_CPU_PROF=1 (the one-worker server writes a .cpuprofile to bench/results/profiles on exit)
import autocannon from 'autocannon'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { connectMongo } from '../plugins/mongo.ts'
import { generateSigningKey } from '../src/sessions/tokens.ts'
import { measureEnumeration, type EnumerationTiming } from './enumeration.ts'
import { Pools, TEST_CODE, TEST_DOMAIN } from './pools.ts'
import { freePort, startService, stopAll, type Service } from './processes.ts'
import { describeMachine, formatTable, writeReport, type BenchReport, type ScenarioResult, type WorkersResult } from './report.ts'
import { SCENARIOS, type Scenario } from './scenarios.ts'

const root = new URL('../', import.meta.url)
const RESULTS = new URL('bench/results/', root)
const ENUMERATION_SAMPLES = 200
const WORKERS_SCENARIO = 'me'

function readSettings (env: NodeJS.ProcessEnv) {
  const number = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback)
    if (!(value > 0)) throw new Error(`${name} must be a positive number`)
    return value
  }
  if (!env.REDIS_URL || !env.MONGODB_URL) throw new Error('REDIS_URL and MONGODB_URL must be set: run `npm run bench`, or source .test-services/dev/env')
  const only = env.BENCH_ONLY ? env.BENCH_ONLY.split(',').map((name) => name.trim()) : null
  return {
    durationSeconds: number('BENCH_DURATION', 10),
    warmupSeconds: number('BENCH_WARMUP', 2),
    connections: Math.round(number('BENCH_CONNECTIONS', 100)),
    selected: (name: string) => only === null || only.includes(name),
    partial: only !== null,
    cpuProfile: env.BENCH_CPU_PROF === '1',
    redisUrl: env.REDIS_URL,
    // a database of its own: a run starts from nothing and leaves the test database alone
    mongoUrl: Object.assign(new URL(env.MONGODB_URL), { pathname: '/otp-gate-bench' }).href,
    path: env.PATH ?? ''
  }
}
type Settings = ReturnType<typeof readSettings>

const JSON_KEYS = JSON.stringify([generateSigningKey('bench')])

/** Production mode, as deployed, with test identifiers and the load generator on the rate-limit allowlist. */
function serverEnv (settings: Settings, port: number, workers: number): Record<string, string> {
  return {
    PATH: settings.path,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    WORKERS: String(workers),
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '2000',
    REDIS_URL: settings.redisUrl,
    MONGODB_URL: settings.mongoUrl,
    JWT_KEYS: JSON_KEYS,
    OTP_PEPPER: 'bench-pepper-bench-pepper-bench-pepper',
    TOTP_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    // required in production, never called: test identifiers get no message
    SENDGRID_API_KEY: 'SG.bench-unused',
    EMAIL_FROM: `bench@${TEST_DOMAIN}`,
    VONAGE_API_KEY: 'bench-unused',
    VONAGE_API_SECRET: 'bench-unused',
    SMS_FROM: 'otpgate',
    SMS_ALLOWED_COUNTRIES: 'US',
    TEST_IDENTIFIERS: `*@${TEST_DOMAIN}=${TEST_CODE}`,
    ALLOW_TEST_IDENTIFIERS: 'true',
    TEST_IDENTIFIERS_SKIP_QUOTA: 'true',
    RATE_LIMIT_ALLOWLIST: '127.0.0.1'
  }
}
// the children run in bench/, where no .env can reach them; src/server.ts reads one from its working directory
const cwd = fileURLToPath(new URL('bench/', root))
const script = (path: string) => fileURLToPath(new URL(path, root))

async function startApp (settings: Settings, workers: number): Promise<Service> {
  const port = await freePort()
  const profile = settings.cpuProfile && workers === 1 ? ['--cpu-prof', '--cpu-prof-dir', fileURLToPath(new URL('profiles/', RESULTS))] : []
  return startService(`app (${workers} worker${workers > 1 ? 's' : ''})`, [...profile, script('src/server.ts')], serverEnv(settings, port, workers), { cwd, port, readyPath: '/health/ready' })
}

async function startFloor (settings: Settings): Promise<Service> {
  const port = await freePort()
  return startService('floor', [script('bench/floor-server.ts')], serverEnv(settings, port, 1), { cwd, port, readyPath: '/health' })
}

async function dropBenchDatabase (settings: Settings): Promise<void> {
  const connection = await connectMongo(settings.mongoUrl, 5000)
  await connection.dropDatabase()
  await connection.close()
}

/** A warm-up run whose numbers are thrown away, then the measured one. */
async function measure (scenario: Scenario, servers: { app: string, floor: string }, pools: Pools, settings: Settings): Promise<ScenarioResult> {
  const { connections, warmupSeconds, durationSeconds } = settings
  await scenario.prepare?.({ pools, ...servers, connections, seconds: warmupSeconds + durationSeconds })
  const url = servers[scenario.server]
  const common = { url, connections, timeout: 10 }
  const warmUp = scenario.load(pools)
  await autocannon({ ...common, duration: warmupSeconds, ...warmUp.options })
  warmUp.finish?.()
  const load = scenario.load(pools)
  const result = await autocannon({ ...common, duration: durationSeconds, ...load.options })
  load.finish?.()
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]))
  const measured: ScenarioResult = {
    name: scenario.name,
    reqPerSec: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    floor: scenario.floor ?? null,
    ratio: null,
    statusCodes
  }
  if (scenario.note) measured.note = scenario.note
  console.log(`${scenario.name.padEnd(24)} ${String(measured.reqPerSec).padStart(6)} req/s  p50 ${measured.p50} ms  p99 ${measured.p99} ms  errors ${measured.errors}  non-2xx ${measured.non2xx}  ${JSON.stringify(statusCodes)}`)
  return measured
}

function withRatios (results: ScenarioResult[]): ScenarioResult[] {
  const rate = new Map(results.map((result) => [result.name, result.reqPerSec]))
  return results.map((result) => {
    const floorRate = result.floor ? rate.get(result.floor) : undefined
    return { ...result, ratio: floorRate ? Math.round(result.reqPerSec / floorRate * 100) / 100 : null }
  })
}

async function main (settings: Settings): Promise<void> {
  const began = performance.now()
  const warnings: string[] = []
  const pools = new Pools()
  const results: ScenarioResult[] = []
  let enumeration: EnumerationTiming | null = null
  let workers: WorkersResult | null = null

  await dropBenchDatabase(settings)
  const [app, floor] = await Promise.all([startApp(settings, 1), startFloor(settings)])
  try {
    for (const scenario of SCENARIOS.filter((item) => settings.selected(item.name))) {
      results.push(await measure(scenario, { app: app.url, floor: floor.url }, pools, settings))
    }
    if (settings.selected('enumeration')) {
      await pools.ensureLogins(app.url, 50)
      const knownEmails = [...new Set(pools.logins.map((login) => login.email))]
      enumeration = await measureEnumeration(app.url, knownEmails, ENUMERATION_SAMPLES)
      console.log(`enumeration: known ${enumeration.knownMedianMs} ms, unknown ${enumeration.unknownMedianMs} ms, difference ${enumeration.differenceMs} ms`)
    }
    for (const service of [app, floor]) {
      if (service.warnings() > 0) warnings.push(`${service.name} logged ${service.warnings()} warnings; the last lines:\n${service.tail()}`)
    }
  } catch (error) {
    for (const service of [app, floor]) console.error(`--- ${service.name}, last lines:\n${service.tail()}`)
    throw error
  } finally {
    await Promise.all([app.stop(), floor.stop()])
  }

  const workersScenario = SCENARIOS.find((scenario) => scenario.name === WORKERS_SCENARIO)!
  const oneWorker = results.find((result) => result.name === WORKERS_SCENARIO)
  if (settings.selected('workers') && oneWorker) {
    const twoWorkerApp = await startApp(settings, 2)
    try {
      const twoWorkers = await measure(workersScenario, { app: twoWorkerApp.url, floor: '' }, pools, settings)
      workers = { scenario: WORKERS_SCENARIO, oneWorker: oneWorker.reqPerSec, twoWorkers: twoWorkers.reqPerSec, gain: Math.round(twoWorkers.reqPerSec / oneWorker.reqPerSec * 100) / 100 }
      if (twoWorkers.errors + twoWorkers.non2xx > 0) warnings.push(`the 2-worker ${WORKERS_SCENARIO} run had ${twoWorkers.errors} errors and ${twoWorkers.non2xx} non-2xx`)
      if (twoWorkerApp.warnings() > 0) warnings.push(`${twoWorkerApp.name} logged ${twoWorkerApp.warnings()} warnings; the last lines:\n${twoWorkerApp.tail()}`)
    } finally {
      await twoWorkerApp.stop()
    }
  }
  await dropBenchDatabase(settings)

  if (pools.starved > 0) warnings.push(`${pools.starved} requests went out without a challenge or session because a pool ran dry (counted as non-2xx)`)
  const report: BenchReport = {
    ranAt: new Date().toISOString(),
    machine: describeMachine(),
    settings: { durationSeconds: settings.durationSeconds, warmupSeconds: settings.warmupSeconds, connections: settings.connections },
    scenarios: withRatios(results),
    workers,
    enumeration,
    totalSeconds: Math.round((performance.now() - began) / 1000),
    warnings
  }
  console.log('\n' + formatTable(report))
  if (settings.partial) {
    console.log('\nBENCH_ONLY is set: bench/results/ left as it was')
  } else {
    await writeReport(RESULTS, report)
    console.log(`\nwritten: ${fileURLToPath(new URL('latest.md', RESULTS))} and latest.json`)
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { stopAll().finally(() => process.exit(130)) })
}
main(readSettings(process.env)).catch(async (error: unknown) => {
  console.error(error)
  await stopAll()
  process.exitCode = 1
})
