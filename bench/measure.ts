import autocannon from 'autocannon'
import type { Pools } from './pools.ts'
import { settle, type Service } from './processes.ts'
import type { ScenarioResult } from './report.ts'
import type { Scenario } from './scenarios.ts'
import type { FakeSendGrid } from '../test/helpers/fake-sendgrid.ts'

/** How long and how hard each autocannon run pushes. */
export interface RunShape { connections: number, warmupSeconds: number, durationSeconds: number }

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

/**
 * Codes queued by a run are sent after it, by the delivery worker: the next run starts once SendGrid has had
 * no new message for a second, so their sending does not weigh on it.
 */
export async function deliveriesDrained (sendgrid: FakeSendGrid, withinMs = 120_000): Promise<void> {
  const deadline = Date.now() + withinMs
  let seen = -1
  while (sendgrid.requests.length !== seen && Date.now() < deadline) {
    seen = sendgrid.requests.length
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}
