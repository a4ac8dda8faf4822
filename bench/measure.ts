import autocannon from 'autocannon'
import { appendFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Pools } from './pools.ts'
import { settle, type Service } from './processes.ts'
import type { Drained, ScenarioResult } from './report.ts'
import type { PrepareContext, Scenario } from './scenarios.ts'
import type { FakeSendGrid } from '../test/helpers/fake-sendgrid.ts'
import { storeVacuumed } from './store-upkeep.ts'

/** How long and how hard each autocannon run pushes. */
export interface RunShape {
  connections: number
  warmupSeconds: number
  durationSeconds: number
  /** BENCH_CPU_PROF: the measured runs' windows go to windows.jsonl here, so a profile can be cut to them */
  profileDirectory?: string | null
}

/** A warm-up run whose numbers are thrown away, then the measured one. */
export async function measure (
  scenario: Scenario,
  services: { app: Service, floor?: Service },
  pools: Pools,
  shape: RunShape,
  label = scenario.name
): Promise<ScenarioResult> {
  const { connections, warmupSeconds, durationSeconds } = shape
  const service = services[scenario.server]
  if (service === undefined) throw new Error(`${scenario.name} needs the ${scenario.server} server`)
  const context = { pools, app: services.app.url, floor: services.floor?.url ?? '', connections }
  await scenario.prepare?.({ ...context, seconds: warmupSeconds, rate: scenario.rateBound ?? 0 })
  await settle(service)
  const url = service.url
  const common = { url, connections, timeout: 10 }
  const warmUp = scenario.load(pools)
  const warmed = await autocannon({ ...common, duration: warmupSeconds, ...warmUp.options })
  warmUp.finish?.()
  // the pools for the measured run are sized from the rate the warm-up reached, and topped up while it goes
  const measuredRun = { ...context, seconds: durationSeconds, rate: warmed.requests.average }
  await scenario.prepare?.(measuredRun)
  await storeVacuumed()
  await settle(service)
  const load = scenario.load(pools)
  const starvedBefore = pools.starved
  const cpuBefore = await service.cpuMs()
  // V8 stamps profile samples with the monotonic clock hrtime reads, in µs
  const from = process.hrtime.bigint() / 1000n
  const refilling = refillWhile(scenario, measuredRun)
  const result = await autocannon({ ...common, duration: durationSeconds, ...load.options })
  await refilling.stop()
  const to = process.hrtime.bigint() / 1000n
  const cpuAfter = await service.cpuMs()
  load.finish?.()
  const poolMisses = pools.starved - starvedBefore
  // a run whose answers were mostly to requests without a challenge or session measured the pool, not the API
  const mostlyMisses = poolMisses * 2 > result.requests.total
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count])
  )
  const measured: ScenarioResult = {
    name: scenario.name,
    reqPerSec: mostlyMisses ? null : Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    poolMisses,
    floor: scenario.floor ?? null,
    ratio: null,
    serverCpuMicrosPerRequest: cpuBefore === null || cpuAfter === null || result.requests.total === 0
      ? null
      : Math.round((cpuAfter - cpuBefore) * 1000 / result.requests.total),
    statusCodes
  }
  if (scenario.note) measured.note = scenario.note
  if (shape.profileDirectory) {
    await mkdir(shape.profileDirectory, { recursive: true })
    const window = {
      scenario: label, server: scenario.server, from: Number(from), to: Number(to), requests: result.requests.total
    }
    await appendFile(join(shape.profileDirectory, 'windows.jsonl'), JSON.stringify(window) + '\n')
  }
  if (mostlyMisses) console.log(`${label}: no req/s: ${poolMisses} of ${result.requests.total} requests went out without a challenge or session (the pool ran dry)`)
  console.log(`${label.padEnd(24)} ${String(measured.reqPerSec ?? '–').padStart(6)} req/s  p50 ${measured.p50} ms  p99 ${measured.p99} ms  ` +
    `errors ${measured.errors}  non-2xx ${measured.non2xx}  server CPU ${measured.serverCpuMicrosPerRequest} µs/req  ${JSON.stringify(statusCodes)}`)
  return measured
}

/** Calls the scenario's refill every 250 ms while a run goes; `stop` waits for the refill under way. */
function refillWhile (scenario: Scenario, run: PrepareContext): { stop: () => Promise<void> } {
  if (scenario.refill === undefined) return { stop: async () => {} }
  const refill = scenario.refill
  const state = { running: true }
  const loop = (async () => {
    while (state.running) {
      await refill(run)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  })()
  return { stop: async () => { state.running = false; await loop } }
}

/**
 * Codes queued by a run are sent after it, by the delivery worker: the next run starts once SendGrid has had
 * no new message for a second, so their sending does not weigh on it.
 */
export async function deliveriesDrained (sendgrid: FakeSendGrid, withinMs = 300_000): Promise<Drained> {
  const began = performance.now()
  const before = sendgrid.requests.length
  let seen = before
  let lastNew = began
  // until a second passes without a new message (five before the first: a worker just started fetches first),
  // looking every 100 ms so the last one's time is close
  const quiet = () => performance.now() - lastNew >= (seen === before ? 5000 : 1000)
  while (!quiet() && performance.now() - began < withinMs) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    if (sendgrid.requests.length !== seen) {
      seen = sendgrid.requests.length
      lastNew = performance.now()
    }
  }
  return { sent: seen - before, seconds: (lastNew - began) / 1000, complete: quiet() }
}
