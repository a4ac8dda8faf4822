import type { BenchReport, ScenarioResult } from '../../bench/report.ts'

/** A report holding only `scenarios`, as the bench's tests format it. */
export const benchReport = (scenarios: ScenarioResult[], rounds?: number): BenchReport => ({
  ranAt: '2026-12-04T00:00:00.000Z',
  machine: 'test',
  settings: { durationSeconds: 1, warmupSeconds: 1, connections: 1, ...(rounds === undefined ? {} : { rounds }) },
  scenarios,
  workers: null,
  enumeration: null,
  metrics: null,
  totalSeconds: 1,
  warnings: []
})
