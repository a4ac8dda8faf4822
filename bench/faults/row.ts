// One scenario's row: what the load's requests got, and how long after the fault the errors went on.
import type { Losses } from './checks.ts'
import { problemOf, type RequestRecord } from './load.ts'

export interface Row {
  scenario: string
  /** REDIS_WAIT_REPLICAS, for the Redis scenarios; null otherwise */
  waitReplicas: number | null
  sent: number
  ok: number
  unavailable: number
  unavailableWithoutRetryAfter: number
  otherServerErrors: number
  connectionErrors: number
  timeouts: number
  /** 4xx answers, e.g. a refresh chain or test challenge that the fault made unusable */
  clientErrors: number
  /** answers slower than STORE_TIMEOUT_MS plus a second: a hang beyond the store deadline */
  slowerThanDeadline: number
  slowestMs: number
  /** p50 and p99 latency of the answers to requests sent before the fault: the load is below saturation if low */
  beforeFault: { p50Ms: number, p99Ms: number }
  /** from the fault to the last failed answer; null: still failing when the load stopped */
  recoverySeconds: number | null
  losses: Losses
  /** requests that went out without a challenge or chain because a pool ran dry (not in `sent`) */
  starved: number
  problems: Record<string, number>
  /** failed answers (as for the recovery) per second of sending, from the first second of the load */
  failuresPerSecond: number[]
  /** the second of failuresPerSecond[0], counted from the fault (negative: before it) */
  firstSecond: number
  /** the first answers that were 5xx but not 503, or 503 without Retry-After: request kind, status, body */
  serverErrorSamples: string[]
  /** what the harness saw of the fault itself, e.g. how long the restart took */
  notes: string[]
}

function percentile (values: number[], rank: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(rank * sorted.length))]!)
}

const isFailure = ({ outcome }: RequestRecord) =>
  outcome.failure !== null || (outcome.status !== null && outcome.status >= 500)

export function rowOf (input: {
  scenario: string,
  waitReplicas: number | null,
  records: RequestRecord[],
  faultAt: number,
  loadEndedAt: number,
  deadlineMs: number,
  losses: Losses,
  notes: string[]
}): Row {
  const answered = input.records.filter(({ outcome }) => outcome.status !== 0)
  const count = (test: (record: RequestRecord) => boolean) => answered.filter(test).length
  const status = ({ outcome }: RequestRecord) => outcome.status ?? 0
  const problems: Record<string, number> = {}
  for (const record of answered) {
    if (record.outcome.status !== null && record.outcome.status < 400) continue
    const key = `${record.kind} ${problemOf(record.outcome)}`
    problems[key] = (problems[key] ?? 0) + 1
  }
  const failures = answered.filter(isFailure)
  const lastFailure = Math.max(0, ...failures.map(({ sentAt, outcome }) => sentAt + outcome.ms))
  // requests sent in the last second of the load still failing: not recovered within the window
  const lastSent = Math.max(0, ...answered.map(({ sentAt }) => sentAt))
  const recovered = Math.max(0, ...failures.map(({ sentAt }) => sentAt)) < lastSent - 1000
  const serverErrorSamples = answered
    .filter(({ outcome }) => (outcome.status ?? 0) >= 500 && (outcome.status !== 503 || !outcome.retryAfter))
    .slice(0, 5)
    .map(({ kind, sentAt, outcome }) => `${new Date(sentAt).toISOString()} ${kind} → ${outcome.status}: ${outcome.body.slice(0, 300)}`)
  const calm = answered
    .filter(({ sentAt, outcome }) => sentAt + outcome.ms < input.faultAt)
    .map(({ outcome }) => outcome.ms)
  const firstSecond = Math.floor((Math.min(...answered.map(({ sentAt }) => sentAt)) - input.faultAt) / 1000)
  const failuresPerSecond = Array.from({ length: Math.ceil((lastSent - input.faultAt) / 1000) - firstSecond }, () => 0)
  for (const record of failures) failuresPerSecond[Math.floor((record.sentAt - input.faultAt) / 1000) - firstSecond]!++
  return {
    scenario: input.scenario,
    waitReplicas: input.waitReplicas,
    sent: answered.length,
    ok: count((record) => status(record) >= 200 && status(record) < 300),
    unavailable: count((record) => status(record) === 503),
    unavailableWithoutRetryAfter: count((record) => status(record) === 503 && !record.outcome.retryAfter),
    otherServerErrors: count((record) => status(record) >= 500 && status(record) !== 503),
    connectionErrors: count(({ outcome }) => outcome.failure === 'connection'),
    timeouts: count(({ outcome }) => outcome.failure === 'timeout'),
    clientErrors: count((record) => status(record) >= 400 && status(record) < 500),
    slowerThanDeadline: count(({ outcome }) => outcome.ms > input.deadlineMs + 1000),
    slowestMs: Math.round(Math.max(0, ...answered.map(({ outcome }) => outcome.ms))),
    beforeFault: { p50Ms: percentile(calm, 0.5), p99Ms: percentile(calm, 0.99) },
    recoverySeconds: recovered ? Math.max(0, Math.round((lastFailure - input.faultAt) / 100) / 10) : null,
    losses: input.losses,
    starved: input.records.length - answered.length,
    problems,
    serverErrorSamples,
    failuresPerSecond,
    firstSecond,
    notes: input.notes
  }
}
