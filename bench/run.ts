// `npm run bench`: the API in production mode against the Redis and MongoDB-wire server of the environment
// (REDIS_URL, MONGODB_URL), autocannon scenarios against it and against bare-Fastify floors, a 2-worker pass and
// an enumeration-timing probe. Results go to the terminal and to bench/results/latest.{md,json}.
//   BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 2), BENCH_CONNECTIONS (100),
//   BENCH_ONLY=me,floor-mongo-read,enumeration,workers (a subset; nothing is written to bench/results),
//   BENCH_METRICS=1 (a second pass of the app scenarios with METRICS_PORT set and /metrics scraped every second,
//   each row `<scenario> +metrics` compared with the same scenario without metrics),
//   BENCH_CPU_PROF=1 (the one-worker server writes a .cpuprofile to bench/results/profiles on exit),
//   BENCH_TARGET=https://… (the endpoint scenarios and the enumeration probe against a running instance configured
//   with TEST_IDENTIFIERS='*@loadtest.example=000000'; nothing is started, nothing is written)
import autocannon from 'autocannon'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { measureEnumeration, type EnumerationTiming } from './enumeration.ts'
import { Pools } from './pools.ts'
import { remoteService, settle, stopAll, type Service } from './processes.ts'
import { describeMachine, formatTable, writeReport, type BenchReport, type ScenarioResult, type WorkersResult } from './report.ts'
import { SCENARIOS, type Scenario } from './scenarios.ts'
import { dropBenchDatabase, startApp, startDeliveryWorker, startFloor } from './servers.ts'
import { freePort } from '../test/helpers/disposable-server.ts'
import { startFakeSendGrid, type FakeSendGrid } from '../test/helpers/fake-sendgrid.ts'

const RESULTS = new URL('results/', import.meta.url)
/** how long the fake SendGrid takes to accept a message, as a real provider might */
const PROVIDER_LATENCY_MS = 150
const ENUMERATION_SAMPLES = 200
const WORKERS_SCENARIO = 'start'

function readSettings (env: NodeJS.ProcessEnv) {
  const number = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback)
    if (!(value > 0)) throw new Error(`${name} must be a positive number`)
    return value
  }
  const target = env.BENCH_TARGET || null
  if (target === null && (!env.REDIS_URL || !env.MONGODB_URL)) throw new Error('REDIS_URL and MONGODB_URL must be set: run `npm run bench`, or source .test-services/dev/env')
  const only = env.BENCH_ONLY ? env.BENCH_ONLY.split(',').map((name) => name.trim()) : null
  return {
    durationSeconds: number('BENCH_DURATION', 10),
    warmupSeconds: number('BENCH_WARMUP', 2),
    connections: Math.round(number('BENCH_CONNECTIONS', 100)),
    selected: (name: string) => only === null || only.includes(name),
    partial: only !== null,
    metricsPass: env.BENCH_METRICS === '1',
    profileDirectory: env.BENCH_CPU_PROF === '1' ? fileURLToPath(new URL('profiles/', RESULTS)) : null,
    target,
    redisUrl: env.REDIS_URL ?? '',
    // a database of its own: a run starts from nothing and leaves the test database alone
    mongoUrl: env.MONGODB_URL ? Object.assign(new URL(env.MONGODB_URL), { pathname: '/otp-gate-bench' }).href : '',
    path: env.PATH ?? '',
    /** set once the fake SendGrid listens */
    sendgridUrl: ''
  }
}
type Settings = ReturnType<typeof readSettings>

/** A warm-up run whose numbers are thrown away, then the measured one. */
async function measure (
  scenario: Scenario,
  services: { app: Service, floor?: Service },
  pools: Pools,
  settings: Settings,
  label = scenario.name
): Promise<ScenarioResult> {
  const { connections, warmupSeconds, durationSeconds } = settings
  const service = services[scenario.server]
  if (service === undefined) throw new Error(`${scenario.name} needs the ${scenario.server} server`)
  await scenario.prepare?.({ pools, app: services.app.url, floor: services.floor?.url ?? '', connections, seconds: warmupSeconds + durationSeconds })
  await settle(service)
  const url = service.url
  const common = { url, connections, timeout: 10 }
  const warmUp = scenario.load(pools)
  await autocannon({ ...common, duration: warmupSeconds, ...warmUp.options })
  warmUp.finish?.()
  const load = scenario.load(pools)
  const cpuBefore = await service.cpuMs()
  const result = await autocannon({ ...common, duration: durationSeconds, ...load.options })
  const cpuAfter = await service.cpuMs()
  load.finish?.()
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count])
  )
  const measured: ScenarioResult = {
    name: scenario.name,
    reqPerSec: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    floor: scenario.floor ?? null,
    ratio: null,
    serverCpuMicrosPerRequest: cpuBefore === null || cpuAfter === null || result.requests.total === 0
      ? null
      : Math.round((cpuAfter - cpuBefore) * 1000 / result.requests.total),
    statusCodes
  }
  if (scenario.note) measured.note = scenario.note
  console.log(`${label.padEnd(24)} ${String(measured.reqPerSec).padStart(6)} req/s  p50 ${measured.p50} ms  p99 ${measured.p99} ms  ` +
    `errors ${measured.errors}  non-2xx ${measured.non2xx}  server CPU ${measured.serverCpuMicrosPerRequest} µs/req  ${JSON.stringify(statusCodes)}`)
  return measured
}

function withRatios (results: ScenarioResult[]): ScenarioResult[] {
  const byName = new Map(results.map((result) => [result.name, result]))
  const ratio = (value: number, floorValue: number | undefined) =>
    floorValue ? Math.round(value / floorValue * 100) / 100 : null
  return results.map((result) => {
    const floor = result.floor ? byName.get(result.floor) : undefined
    return { ...result, ratio: ratio(result.reqPerSec, floor?.reqPerSec), p99Ratio: ratio(result.p99, floor?.p99) }
  })
}

/**
 * Codes queued by a run are sent after it, by the app's worker: the next scenario starts once SendGrid has had
 * no new message for a second, so their sending does not weigh on it.
 */
async function deliveriesDrained (sendgrid: FakeSendGrid, withinMs = 120_000): Promise<void> {
  const deadline = Date.now() + withinMs
  let seen = -1
  while (sendgrid.requests.length !== seen && Date.now() < deadline) {
    seen = sendgrid.requests.length
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

async function main (settings: Settings): Promise<void> {
  const began = performance.now()
  const sendgrid = await startFakeSendGrid()
  sendgrid.answerAlways({ status: 202, delayMs: PROVIDER_LATENCY_MS })
  settings.sendgridUrl = sendgrid.url
  const worker = await startDeliveryWorker(settings)
  try {
    await runAll(settings, sendgrid, began)
  } finally {
    await worker.stop()
    await sendgrid.close()
  }
}

async function runAll (settings: Settings, sendgrid: FakeSendGrid, began: number): Promise<void> {
  const warnings: string[] = []
  const pools = new Pools()
  const results: ScenarioResult[] = []
  let enumeration: EnumerationTiming | null = null
  let workers: WorkersResult | null = null

  await dropBenchDatabase(settings)
  // first, while the database is as empty as for the one-worker run: on a server without index point reads
  // (FerretDB on SQLite) every read costs more as the bench fills the collections
  let twoWorkers: ScenarioResult | null = null
  const workersScenario = SCENARIOS.find((scenario) => scenario.name === WORKERS_SCENARIO)!
  if (settings.selected('workers') && settings.selected(WORKERS_SCENARIO)) {
    const twoWorkerApp = await startApp(settings, 2)
    try {
      twoWorkers = await measure(workersScenario, { app: twoWorkerApp }, pools, settings, `${WORKERS_SCENARIO} (2 workers)`)
      await deliveriesDrained(sendgrid)
      if (twoWorkerApp.warnings() > 0) warnings.push(`${twoWorkerApp.name} logged ${twoWorkerApp.warnings()} warnings or errors: ${twoWorkerApp.warningSummary()}`)
    } finally {
      await twoWorkerApp.stop()
    }
  }

  const [app, floor] = await Promise.all([startApp(settings, 1), startFloor(settings)])
  try {
    for (const scenario of SCENARIOS.filter((item) => settings.selected(item.name))) {
      results.push(await measure(scenario, { app, floor }, pools, settings))
      if (scenario.name === 'start') await deliveriesDrained(sendgrid)
    }
    if (settings.selected('enumeration')) {
      await pools.ensureLogins(app.url, 50)
      await settle(app)
      const knownEmails = [...new Set(pools.logins.map((login) => login.email))]
      enumeration = await measureEnumeration(app.url, knownEmails, ENUMERATION_SAMPLES)
      console.log(`enumeration: known ${enumeration.knownMedianMs} ms, unknown ${enumeration.unknownMedianMs} ms, difference ${enumeration.differenceMs} ms`)
    }
    for (const service of [app, floor]) {
      if (service.warnings() > 0) warnings.push(`${service.name} logged ${service.warnings()} warnings or errors: ${service.warningSummary()}`)
    }
  } catch (error) {
    for (const service of [app, floor]) console.error(`--- ${service.name}, last lines:\n${service.tail()}`)
    throw error
  } finally {
    await Promise.all([app.stop(), floor.stop()])
  }
  if (settings.metricsPass) results.push(...await metricsPass(settings, sendgrid, pools, warnings))
  const oneWorker = results.find((result) => result.name === WORKERS_SCENARIO)
  if (twoWorkers && oneWorker) {
    workers = {
      scenario: WORKERS_SCENARIO,
      oneWorker: oneWorker.reqPerSec,
      twoWorkers: twoWorkers.reqPerSec,
      gain: Math.round(twoWorkers.reqPerSec / oneWorker.reqPerSec * 100) / 100
    }
    if (twoWorkers.errors + twoWorkers.non2xx > 0) warnings.push(`the 2-worker ${WORKERS_SCENARIO} run had ${twoWorkers.errors} errors and ${twoWorkers.non2xx} non-2xx`)
  }
  await dropBenchDatabase(settings)

  if (pools.starved > 0) warnings.push(`${pools.starved} requests went out without a challenge or session because a pool ran dry (counted as non-2xx)`)
  if (pools.problems.size > 0) warnings.push(`error answers, all scenarios and warm-ups: ${[...pools.problems].map(([problem, count]) => `${count} × ${problem}`).join(', ')}`)
  const report: BenchReport = {
    ranAt: new Date().toISOString(),
    machine: describeMachine(),
    settings: {
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      connections: settings.connections
    },
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

/**
 * The app scenarios again on an app with metrics on (METRICS_PORT), scraped every second as a Prometheus server
 * would (more often than its usual 15 s): each row's ratio is to the same scenario without metrics.
 */
async function metricsPass (
  settings: Settings, sendgrid: FakeSendGrid, pools: Pools, warnings: string[]
): Promise<ScenarioResult[]> {
  const metricsPort = await freePort()
  const app = await startApp(settings, 1, metricsPort)
  let scrapes = 0
  const scraper = setInterval(() => {
    fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(async (response) => { await response.text(); if (response.ok) scrapes++ }, () => {})
  }, 1000)
  const results: ScenarioResult[] = []
  try {
    for (const scenario of SCENARIOS.filter((item) => item.server === 'app' && settings.selected(item.name))) {
      const measured = await measure(scenario, { app }, pools, settings, `${scenario.name} +metrics`)
      results.push({ ...measured, name: `${scenario.name} +metrics`, floor: scenario.name })
      if (scenario.name === 'start') await deliveriesDrained(sendgrid)
    }
    if (scrapes === 0) warnings.push('the metrics pass could not scrape /metrics')
    if (app.warnings() > 0) warnings.push(`${app.name} logged ${app.warnings()} warnings or errors: ${app.warningSummary()}`)
  } finally {
    clearInterval(scraper)
    await app.stop()
  }
  return results
}

/** BENCH_TARGET: the endpoint scenarios against an instance running elsewhere; no floors, no workers pass. */
async function runAgainstTarget (target: string, settings: Settings): Promise<void> {
  const began = performance.now()
  const app = remoteService(target)
  const pools = new Pools()
  const results: ScenarioResult[] = []
  for (const scenario of SCENARIOS.filter((item) => item.server === 'app' && settings.selected(item.name))) {
    results.push({ ...await measure(scenario, { app }, pools, settings), floor: null })
  }
  const enumeration = settings.selected('enumeration') && pools.logins.length > 0
    ? await measureEnumeration(app.url, pools.logins.map((login) => login.email), ENUMERATION_SAMPLES)
    : null
  const warnings = pools.starved > 0 ? [`${pools.starved} requests went out without a challenge or session because a pool ran dry`] : []
  if (pools.problems.size > 0) warnings.push(`error answers: ${[...pools.problems].map(([problem, count]) => `${count} × ${problem}`).join(', ')}`)
  console.log('\n' + formatTable({
    ranAt: new Date().toISOString(),
    machine: `load generator: ${describeMachine()}; target ${target}`,
    settings: {
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      connections: settings.connections
    },
    scenarios: results,
    workers: null,
    enumeration,
    totalSeconds: Math.round((performance.now() - began) / 1000),
    warnings
  }))
}

// autocannon's timers go negative when a loaded machine makes them late: harmless, and not the server's
process.removeAllListeners('warning').on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') console.warn(warning)
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { stopAll().finally(() => process.exit(130)) })
}
const settings = readSettings(process.env)
const run = settings.target === null ? main(settings) : runAgainstTarget(settings.target, settings)
run.catch(async (error: unknown) => {
  console.error(error)
  await stopAll()
  process.exitCode = 1
})
