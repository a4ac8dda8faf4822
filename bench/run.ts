// `npm run bench`: the API in production mode against the Redis and MongoDB-wire server of the environment
// (REDIS_URL, MONGODB_URL), autocannon scenarios against it and against bare-Fastify floors, a 2-worker
// pass, an enumeration-timing probe, the cost of REDIS_WAIT_REPLICAS=1 and the cost of metrics. Results go to the
// terminal and to bench/results/latest.{md,json}.
//   BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 10; the metrics and WAIT comparisons warm up 2 s, alike on
//   both sides), BENCH_CONNECTIONS (100),
//   BENCH_ROUNDS (3) rounds of the endpoints beside their floors: medians, each ratio the median of the rounds' own,
//   BENCH_ONLY=me,floor-me,enumeration,workers,wait,metrics (a subset; nothing is written to bench/results),
//   BENCH_METRICS_PAIRS (6; 0: none) pairs of BENCH_METRICS_DURATION-second (5) runs of each app scenario,
//   interleaved on two apps, one with METRICS_PORT set (bench/metrics-comparison.ts); BENCH_METRICS_CONTROL=1:
//   neither has metrics (an A/A run: how small a difference the bench can tell on this machine),
//   BENCH_WAIT_ROUNDS (2) rounds of the app scenarios at REDIS_WAIT_REPLICAS=0 and =1 on the Sentinel set of the
//   test services (TEST_REDIS_SENTINELS, TEST_REDIS_SENTINEL_NAME), alternating (bench/wait-comparison.ts;
//   BENCH_ONLY=wait runs start, verify, refresh and me, BENCH_ONLY=wait,verify verify alone),
//   BENCH_CPU_PROF=1 (the one-worker server writes a .cpuprofile to bench/results/profiles on exit),
//   BENCH_TARGET=https://… (the endpoint scenarios and the enumeration probe against a running instance configured
//   with TEST_IDENTIFIERS='*@loadtest.example=000000'; nothing is started, nothing is written)
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { measureEnumeration, type EnumerationTiming } from './enumeration.ts'
import { measureFollowUps, type FollowUpTiming } from './enumeration-follow-up.ts'
import { connectMongo } from '../plugins/mongo.ts'
import { MongoUserRepository } from '../src/users/mongo-user-repository.ts'
import { Pools } from './pools.ts'
import { deliveriesDrained, measure } from './measure.ts'
import { compareWithMetrics } from './metrics-comparison.ts'
import { compareReplicaWait, waitSkipReason, type ReplicaWaitSection } from './wait-comparison.ts'
import { remoteService, serviceWarnings, settle, stopAll, type Service } from './processes.ts'
import { describeMachine, formatTable, writeReport, type BenchReport, type Drained, type ScenarioResult, type WorkersResult } from './report.ts'
import { SCENARIOS } from './scenarios.ts'
import { combineRounds, withRatios } from './rounds.ts'
import { round2 } from './stats.ts'
import { dropBenchDatabase, startApp, startDeliveryWorker, startFloor } from './servers.ts'
import { startFakeSendGrid, type FakeSendGrid } from '../test/helpers/fake-sendgrid.ts'

const RESULTS = new URL('results/', import.meta.url)
/** how long the fake SendGrid takes to accept a message, as a real provider might */
const PROVIDER_LATENCY_MS = 150
const ENUMERATION_SAMPLES = 200
/** per kind and per mode of the follow-up probe; a pause after each request lets its job be picked up */
const FOLLOW_UP_PAUSE_MS = 150
const WORKERS_SCENARIO = 'start'
/** the paired comparisons' warm-up: both sides of a pair pay it alike, and it keeps their many short runs short */
const COMPARISON_WARMUP_SECONDS = 2
/** the app scenarios of the REDIS_WAIT_REPLICAS comparison: two that acknowledge writes, refresh and me as controls */
const WAIT_SCENARIOS = ['start', 'verify', 'refresh', 'me']

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
    // long enough for V8 to finish compiling the app's hot paths: after 2 s its compiler threads still took a
    // sixth of the start run's CPU (perf), a cost a long-running server pays once, and the floor barely has
    warmupSeconds: number('BENCH_WARMUP', 10),
    connections: Math.round(number('BENCH_CONNECTIONS', 100)),
    selected: (name: string) => only === null || only.includes(name),
    partial: only !== null,
    metricsPairs: env.BENCH_METRICS_PAIRS === '0' ? 0 : Math.round(number('BENCH_METRICS_PAIRS', 6)),
    metricsSeconds: number('BENCH_METRICS_DURATION', 5),
    metricsControl: env.BENCH_METRICS_CONTROL === '1',
    waitRounds: Math.round(number('BENCH_WAIT_ROUNDS', 2)),
    // one run of an endpoint moves ±10 % with the machine: the median of three, each beside its floor, is steadier
    rounds: Math.round(number('BENCH_ROUNDS', 3)),
    sentinel: { sentinels: env.TEST_REDIS_SENTINELS ?? '', sentinelName: env.TEST_REDIS_SENTINEL_NAME ?? '' },
    followUpSamples: Math.round(number('BENCH_FOLLOW_UP_SAMPLES', 300)),
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

async function main (settings: Settings): Promise<void> {
  const began = performance.now()
  const sendgrid = await startFakeSendGrid()
  sendgrid.answerAlways({ status: 202, delayMs: PROVIDER_LATENCY_MS })
  settings.sendgridUrl = sendgrid.url
  const worker = { service: await startDeliveryWorker(settings) }
  try {
    await runAll(settings, sendgrid, began, worker)
  } finally {
    await worker.service.stop()
    await sendgrid.close()
  }
}

/** `worker`: the delivery worker, stopped while start runs and started again after (its service replaced) */
async function runAll (
  settings: Settings, sendgrid: FakeSendGrid, began: number, worker: { service: Service }
): Promise<void> {
  const warnings: string[] = []
  const pools = new Pools()
  const rounds: ScenarioResult[][] = []
  let enumeration: EnumerationTiming | null = null
  let followUps: FollowUpTiming[] | null = null
  let workers: WorkersResult | null = null
  const drains: Drained[] = []
  let beside: ScenarioResult[] | null = null

  await dropBenchDatabase(settings)
  // first, while the database is as empty as for the one-worker run: on a server without index point reads
  // (FerretDB on SQLite) every read costs more as the bench fills the collections
  let twoWorkers: ScenarioResult | null = null
  const workersScenario = SCENARIOS.find((scenario) => scenario.name === WORKERS_SCENARIO)!
  if (settings.selected('workers') && settings.selected(WORKERS_SCENARIO)) {
    const twoWorkerApp = await startApp(settings, 2)
    try {
      // as for the one-worker start it is compared with: the delivery worker sends after the run
      twoWorkers = (await whileWorkerStopped(worker, settings, sendgrid, () =>
        measure(workersScenario, { app: twoWorkerApp }, pools, settings, `${WORKERS_SCENARIO} (2 workers)`))).result
      warnings.push(...serviceWarnings([twoWorkerApp]))
    } finally {
      await twoWorkerApp.stop()
    }
  }

  const [app, floor] = await Promise.all([startApp(settings, 1), startFloor(settings)])
  try {
    for (let round = 1; round <= settings.rounds; round++) {
      // after the first round, only the endpoints compared with a floor, and their floors
      const scenarios = SCENARIOS.filter((item) => settings.selected(item.name) && (round === 1 || isPaired(item)))
      if (round > 1 && scenarios.length > 0) console.log(`round ${round} of ${settings.rounds}`)
      const results: ScenarioResult[] = []
      for (const scenario of scenarios) {
        if (scenario.name !== 'start') {
          results.push(await measure(scenario, { app, floor }, pools, settings))
          continue
        }
        // as on hosts of its own: the floor's window has no process sending beside it either
        const { result, drained } = await whileWorkerStopped(
          worker, settings, sendgrid, () => measure(scenario, { app, floor }, pools, settings)
        )
        results.push(result)
        drains.push(drained)
      }
      rounds.push(results)
    }
    if (settings.selected('start')) beside = await startBesideWorker(app, floor, pools, settings, sendgrid)
    if (settings.selected('enumeration')) {
      await pools.ensureLogins(app.url, 50)
      await settle(app)
      const knownEmails = [...new Set(pools.logins.map((login) => login.email))]
      enumeration = await measureEnumeration(app.url, knownEmails, ENUMERATION_SAMPLES)
      console.log(`enumeration: known ${enumeration.knownMedianMs} ms, unknown ${enumeration.unknownMedianMs} ms, difference ${enumeration.differenceMs} ms`)
    }
    warnings.push(...serviceWarnings([app, floor]))
  } catch (error) {
    for (const service of [app, floor]) console.error(`--- ${service.name}, last lines:\n${service.tail()}`)
    throw error
  } finally {
    await Promise.all([app.stop(), floor.stop()])
  }
  if (settings.selected('enumeration')) {
    followUps = await measureFollowUps(followUpServers(settings), settings.followUpSamples, FOLLOW_UP_PAUSE_MS)
    for (const timing of followUps) console.log(`enumeration follow-up (${timing.inProcessWorker ? 'API sends' : 'worker sends'}): ${JSON.stringify(timing)}`)
  }
  const replicaWait = settings.selected('wait') ? await replicaWaitSection(settings, sendgrid, warnings) : null
  const metrics = settings.metricsPairs > 0 && settings.selected('metrics')
    ? {
        control: settings.metricsControl,
        scenarios: await compareWithMetrics({
          servers: settings,
          shape: { ...settings, durationSeconds: settings.metricsSeconds, warmupSeconds: COMPARISON_WARMUP_SECONDS },
          pairs: settings.metricsPairs,
          control: settings.metricsControl,
          scenarios: metricsScenarios(settings),
          pools,
          sendgrid,
          warnings
        })
      }
    : null
  const results = combineRounds(rounds)
  const oneWorker = results.find((result) => result.name === WORKERS_SCENARIO)
  if (twoWorkers?.reqPerSec && oneWorker?.reqPerSec) {
    workers = {
      scenario: WORKERS_SCENARIO,
      oneWorker: oneWorker.reqPerSec,
      twoWorkers: twoWorkers.reqPerSec,
      gain: round2(twoWorkers.reqPerSec / oneWorker.reqPerSec)
    }
    if (twoWorkers.errors + twoWorkers.non2xx > 0) warnings.push(`the 2-worker ${WORKERS_SCENARIO} run had ${twoWorkers.errors} errors and ${twoWorkers.non2xx} non-2xx`)
  }
  await dropBenchDatabase(settings)

  if (drains.some((drained) => !drained.complete)) warnings.push('the delivery worker was still sending a start run\'s codes when the bench went on')
  if (pools.starved > 0) warnings.push(`${pools.starved} requests went out without a challenge or session because a pool ran dry (counted as non-2xx)`)
  if (pools.problems.size > 0) warnings.push(`error answers, all scenarios and warm-ups: ${[...pools.problems].map(([problem, count]) => `${count} × ${problem}`).join(', ')}`)
  const report: BenchReport = {
    ranAt: new Date().toISOString(),
    machine: describeMachine(),
    settings: {
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      connections: settings.connections,
      rounds: settings.rounds
    },
    scenarios: results,
    workers,
    deliveryWorker: drains.length > 0 ? { drains, beside } : null,
    enumeration,
    followUps,
    metrics,
    replicaWait,
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

/** An endpoint compared with a floor, or a floor one is compared with. */
const isPaired = (scenario: typeof SCENARIOS[number]) =>
  scenario.floor !== undefined || SCENARIOS.some((item) => item.floor === scenario.name)

/** `run` with the delivery worker stopped; then the worker is started again and has sent what `run` queued. */
async function whileWorkerStopped<T> (
  worker: { service: Service }, settings: Settings, sendgrid: FakeSendGrid, run: () => Promise<T>
): Promise<{ result: T, drained: Drained }> {
  await worker.service.stop()
  const result = await run()
  worker.service = await startDeliveryWorker(settings)
  return { result, drained: await deliveriesDrained(sendgrid) }
}

/** start and its floor once more, the delivery worker sending start's codes on the same cores meanwhile. */
async function startBesideWorker (
  app: Service, floor: Service, pools: Pools, settings: Settings, sendgrid: FakeSendGrid
): Promise<ScenarioResult[]> {
  const pair = SCENARIOS.filter((scenario) => scenario.name === 'start' || scenario.name === 'floor-start')
  const results: ScenarioResult[] = []
  for (const scenario of pair) {
    results.push(await measure(scenario, { app, floor }, pools, settings, `${scenario.name} (delivery worker beside)`))
    if (scenario.name === 'start') await deliveriesDrained(sendgrid)
  }
  return withRatios(results)
}

/** Closed sign-up apps and workers on the bench's stores, and accounts made straight in its database. */
function followUpServers (settings: Settings) {
  return {
    startApp: (env: Record<string, string>) => startApp(settings, 1, undefined, env),
    startWorker: (env: Record<string, string>) => startDeliveryWorker(settings, env),
    createUsers: async (emails: string[], status: 'active' | 'disabled') => {
      const connection = await connectMongo(settings.mongoUrl, 5000)
      try {
        const users = new MongoUserRepository(connection)
        await users.init()
        for (const email of emails) {
          const { user } = await users.findOrCreateByIdentifier('email', email)
          if (status === 'disabled') await users.setStatus(user.id, status)
        }
      } finally {
        await connection.close()
      }
    }
  }
}

/** REDIS_WAIT_REPLICAS 0 against 1 on the test services' Sentinel set, or why not. */
async function replicaWaitSection (
  settings: Settings, sendgrid: FakeSendGrid, warnings: string[]
): Promise<ReplicaWaitSection> {
  const skipped = waitSkipReason(settings.sentinel)
  if (skipped !== null) {
    console.log(`replica wait: skipped: ${skipped}`)
    return { skipped }
  }
  const all = SCENARIOS.filter((item) => WAIT_SCENARIOS.includes(item.name))
  const selected = all.filter((item) => settings.selected(item.name))
  return {
    rounds: settings.waitRounds,
    scenarios: await compareReplicaWait({
      servers: settings,
      sentinel: settings.sentinel,
      shape: { ...settings, warmupSeconds: COMPARISON_WARMUP_SECONDS },
      rounds: settings.waitRounds,
      scenarios: selected.length > 0 ? selected : all,
      sendgrid,
      warnings
    })
  }
}

/** The app scenarios selected, or every one of them when BENCH_ONLY names none (`BENCH_ONLY=metrics`). */
function metricsScenarios (settings: Settings) {
  const app = SCENARIOS.filter((item) => item.server === 'app')
  const selected = app.filter((item) => settings.selected(item.name))
  return selected.length > 0 ? selected : app
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
  // the comparison starts apps of its own on the test services' Sentinel set: nothing to start here
  if (settings.selected('wait')) console.log('replica wait: skipped: BENCH_TARGET runs start nothing')
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
    metrics: null,
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
