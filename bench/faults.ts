// `npm run faults`: a steady mixed load (start, verify, refresh, GET /v1/me) over two API instances and two delivery
// workers while one fault at a time is injected (issue #27, point 3); one row per scenario of what failed, for how
// long, and what was lost or doubled. Results to the terminal and bench/results/faults.{md,json}.
//   FAULTS_RATE (req/s, default 300), FAULTS_PRE_SECONDS (5) and FAULTS_POST_SECONDS (15) of load around the fault,
//   FAULTS_ONLY=d,e (a subset by letter; nothing written to bench/results), FAULTS_WAIT=1,0 (the REDIS_WAIT_REPLICAS
//   values the Redis scenarios run with). Needs the test services (REDIS_URL, MONGODB_URL, TEST_SERVICES_DIR).
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { describeMachine } from './report.ts'
import { dropBenchDatabase } from './servers.ts'
import { stopAll } from './processes.ts'
import { startFakeSendGrid } from '../test/helpers/fake-sendgrid.ts'
import { runEpisode as runEpisodeUnderLoad } from './faults/episode.ts'
import { closeAgents } from './faults/http.ts'
import { MongoWireServer } from './faults/mongo-server.ts'
import { startRedisSet } from './faults/redis-sets.ts'
import { formatTable, writeFaultsReport, type FaultsReport } from './faults/report.ts'
import type { Row } from './faults/row.ts'
import { SCENARIOS, type FaultContext, type FaultScenario } from './faults/scenarios.ts'
import { Stack, type RedisEnv } from './faults/stack.ts'

const RESULTS = new URL('results/', import.meta.url)
const REDIS_SETS_SCRIPT = fileURLToPath(new URL('../scripts/redis-sets.sh', import.meta.url))
/** the whole run is cut off here, whatever happens: the harness is bounded in time */
const WATCHDOG_MS = 15 * 60_000
/** the app's defaults, which the processes run with */
const STORE_TIMEOUT_MS = 1500
const OTP_TTL_SECONDS = 300

function readSettings (env: NodeJS.ProcessEnv) {
  const number = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback)
    if (!(value > 0)) throw new Error(`${name} must be a positive number`)
    return value
  }
  if (!env.REDIS_URL || !env.MONGODB_URL || !env.TEST_SERVICES_DIR) throw new Error('REDIS_URL, MONGODB_URL and TEST_SERVICES_DIR must be set: run `npm run faults`')
  const only = env.FAULTS_ONLY ? env.FAULTS_ONLY.split(',').map((letter) => letter.trim()) : null
  return {
    rate: number('FAULTS_RATE', 300),
    preSeconds: Math.max(3, number('FAULTS_PRE_SECONDS', 5)),
    postSeconds: number('FAULTS_POST_SECONDS', 15),
    storeTimeoutMs: STORE_TIMEOUT_MS,
    codeTtlSeconds: OTP_TTL_SECONDS,
    waits: (env.FAULTS_WAIT ?? '1,0').split(',').map(Number),
    waitTimeoutMs: env.REDIS_WAIT_TIMEOUT_MS,
    selected: (scenario: FaultScenario) => only === null || only.includes(scenario.letter),
    partial: only !== null,
    servicesDir: env.TEST_SERVICES_DIR,
    redisUrl: env.REDIS_URL,
    mongoUrl: Object.assign(new URL(env.MONGODB_URL), { pathname: '/otp-gate-faults' }).href,
    mongoPort: Number(new URL(env.MONGODB_URL).port),
    path: env.PATH ?? '',
    profileDirectory: null,
    sendgridUrl: ''
  }
}
type Settings = ReturnType<typeof readSettings>

/** The variables of a Redis set the processes read, and REDIS_WAIT_*. */
function redisEnvOf (setEnv: Record<string, string>, waitReplicas: number, settings: Settings): RedisEnv {
  const keys = ['REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_CLUSTER_NODES']
  return {
    ...Object.fromEntries(keys.filter((key) => setEnv[key]).map((key) => [key, setEnv[key]!])),
    REDIS_WAIT_REPLICAS: String(waitReplicas),
    ...(settings.waitTimeoutMs ? { REDIS_WAIT_TIMEOUT_MS: settings.waitTimeoutMs } : {})
  }
}

async function main (settings: Settings): Promise<void> {
  const began = performance.now()
  const rows: Row[] = []
  const warnings: string[] = []
  const report = (): FaultsReport => ({
    ranAt: new Date().toISOString(),
    machine: describeMachine(),
    settings: {
      rate: settings.rate,
      preSeconds: settings.preSeconds,
      postSeconds: settings.postSeconds,
      STORE_TIMEOUT_MS,
      OTP_TTL_SECONDS,
      ...(settings.waitTimeoutMs ? { REDIS_WAIT_TIMEOUT_MS: settings.waitTimeoutMs } : {})
    },
    rows,
    totalSeconds: Math.round((performance.now() - began) / 1000),
    warnings
  })
  // written after every scenario, so that a run cut short by the watchdog still leaves what it measured
  const episode = async (scenario: FaultScenario, wait: number | null, context: FaultContext) => {
    rows.push(await runEpisode(scenario, wait, context, settings))
    if (!settings.partial) await writeFaultsReport(RESULTS, report())
  }
  const sendgrid = await startFakeSendGrid()
  settings.sendgridUrl = sendgrid.url
  const base = { sendgrid, mongo: new MongoWireServer(settings.servicesDir), mongoPort: settings.mongoPort, load: null }
  await dropBenchDatabase(settings)
  try {
    const plain = SCENARIOS.filter((scenario) => scenario.redis === 'plain' && settings.selected(scenario))
    if (plain.length > 0) {
      const stack = new Stack(settings, { REDIS_URL: settings.redisUrl })
      await stack.start()
      try {
        const context = { ...base, stack, redisSet: null }
        for (const scenario of plain) await episode(scenario, null, context)
        warnings.push(...stack.warnings().map((line) => `plain Redis stack: ${line}`))
      } finally {
        await stack.stop()
      }
    }
    const replicated = SCENARIOS.filter((scenario) => scenario.redis !== 'plain' && settings.selected(scenario))
    if (replicated.length > 0 && !existsSync(REDIS_SETS_SCRIPT)) {
      warnings.push(`scenarios ${replicated.map((scenario) => scenario.letter).join(', ')} not run: scripts/redis-sets.sh is missing`)
    } else {
      for (const scenario of replicated) {
        for (const wait of settings.waits) {
          const dir = join(settings.servicesDir, `faults-${scenario.letter}-wait${wait}`)
          const redisSet = await startRedisSet(scenario.redis as 'sentinel' | 'cluster', dir)
          const stack = new Stack(settings, redisEnvOf(redisSet.env, wait, settings))
          try {
            await stack.start()
            await episode(scenario, wait, { ...base, stack, redisSet })
            warnings.push(...stack.warnings().map((line) => `${scenario.letter}, WAIT ${wait}: ${line}`))
          } catch (error) {
            // one scenario that cannot run (e.g. the processes refuse its Redis settings) does not cost the others
            const message = error instanceof Error ? error.message : String(error)
            console.error(`${scenario.name}, WAIT ${wait}: not run: ${message}`)
            warnings.push(`${scenario.letter}, WAIT ${wait}: not run: ${message.split('\n').slice(0, 3).join(' ')}`)
          } finally {
            await stack.stop()
            await redisSet.stop()
          }
        }
      }
    }
  } finally {
    await sendgrid.close()
    closeAgents()
    await dropBenchDatabase(settings).catch(() => {})
  }
  const final = report()
  console.log('\n' + formatTable(final))
  if (settings.partial) {
    console.log('\nFAULTS_ONLY is set: bench/results/ left as it was')
  } else {
    await writeFaultsReport(RESULTS, final)
    console.log(`\nwritten: ${fileURLToPath(new URL('faults.md', RESULTS))} and faults.json`)
  }
}

async function runEpisode (
  scenario: FaultScenario, wait: number | null, context: FaultContext, settings: Settings
): Promise<Row> {
  console.log(`${scenario.name}${wait === null ? '' : `, REDIS_WAIT_REPLICAS=${wait}`}`)
  const row = await runEpisodeUnderLoad(scenario, wait, context, context.sendgrid, settings)
  console.log(`  ${JSON.stringify({ sent: row.sent, ok: row.ok, unavailable: row.unavailable, other5xx: row.otherServerErrors, connection: row.connectionErrors, timeouts: row.timeouts, recovery: row.recoverySeconds, losses: row.losses })}`)
  console.log(`  failed per second from ${row.firstSecond} s: ${row.failuresPerSecond.join(' ')}; ${JSON.stringify(row.problems)}`)
  for (const line of context.stack.warnings()) console.log(`  ${line.slice(0, 600)}`)
  if (row.otherServerErrors > 0 || row.unavailableWithoutRetryAfter > 0) {
    for (const service of [...context.stack.apis, ...context.stack.workers]) console.log(`--- ${service.name}, last lines:\n${service.tail()}`)
  }
  return row
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { stopAll().finally(() => process.exit(130)) })
}
const watchdog = setTimeout(() => {
  console.error(`npm run faults: still running after ${WATCHDOG_MS / 60_000} minutes, stopped`)
  stopAll().finally(() => process.exit(1))
}, WATCHDOG_MS)
watchdog.unref()
main(readSettings(process.env)).catch(async (error: unknown) => {
  console.error(error)
  await stopAll()
  process.exitCode = 1
})
