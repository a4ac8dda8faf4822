import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { JSON_HEADERS } from './pools.ts'
import { median, round2 } from './stats.ts'

const round3 = (ms: number) => Math.round(ms * 1000) / 1000

/** Outside the bench's test-identifier domain: these get real codes (known) or decoys (unknown, disabled). */
export const PROBE_DOMAIN = 'probe.example'
export const probeEmail = (label: string) => `${label}-${randomBytes(6).toString('hex')}@${PROBE_DOMAIN}`

const KINDS = ['known', 'unknown', 'disabled'] as const
type Kind = typeof KINDS[number]

export interface FollowUpTiming {
  /** whether the API process sends codes itself (DELIVERY_WORKER) or a worker process does */
  inProcessWorker: boolean
  samples: number
  /** median time of the request that follows a code request for each kind of identifier, ms */
  followUpMedianMs: Record<Kind, number>
  /** known minus unknown */
  differenceMs: number
  /**
   * The best single-sample classifier of known against unknown (one follow-up time, one threshold): the share it
   * gets right on the samples it was chosen on, and on the other half when chosen on one half (held out).
   */
  classifier: { inSample: number, heldOut: number }
}

/** The share a threshold rule gets right at best: known above (or below) t, unknown on the other side. */
interface ThresholdRule { accuracy: number, threshold: number, knownAbove: boolean }

function bestThreshold (known: number[], unknown: number[]): ThresholdRule {
  const points = [...known.map((ms) => ({ ms, known: true })), ...unknown.map((ms) => ({ ms, known: false }))]
    .sort((a, b) => a.ms - b.ms)
  let best: ThresholdRule = { accuracy: 0.5, threshold: -Infinity, knownAbove: true }
  let knownBelow = 0
  let unknownBelow = 0
  for (const [index, point] of points.entries()) {
    if (point.known) knownBelow++
    else unknownBelow++
    if (points[index + 1]?.ms === point.ms) continue
    // balanced accuracy of "known when above point.ms", and of its mirror
    const above = ((known.length - knownBelow) / known.length + unknownBelow / unknown.length) / 2
    for (const [accuracy, knownAbove] of [[above, true], [1 - above, false]] as const) {
      if (accuracy > best.accuracy) best = { accuracy, threshold: point.ms, knownAbove }
    }
  }
  return best
}

function heldOutAccuracy (known: number[], unknown: number[]): number {
  const half = <T>(values: T[], parity: number) => values.filter((_, index) => index % 2 === parity)
  const rule = bestThreshold(half(known, 0), half(unknown, 0))
  const right = (ms: number, isKnown: boolean) => ((ms > rule.threshold) === rule.knownAbove) === isKnown
  const testKnown = half(known, 1)
  const testUnknown = half(unknown, 1)
  return (testKnown.filter((ms) => right(ms, true)).length / testKnown.length +
    testUnknown.filter((ms) => right(ms, false)).length / testUnknown.length) / 2
}

/**
 * What an attacker who times the request *after* a code request could learn (security round 3, point 2): with
 * closed sign-up, a known identifier's code is rendered and sent by whatever process sends, a decoy's is not sent.
 * Rounds of one code request per kind, in a rotating order, each followed at once by a timed code request for a
 * fresh address; a pause between requests lets the jobs of the last one be picked up, as a careful attacker would.
 */
export async function measureFollowUp (
  base: string, identifiers: Record<Kind, string[]>, inProcessWorker: boolean, pauseMs: number
): Promise<FollowUpTiming> {
  const samples = Math.min(...KINDS.map((kind) => identifiers[kind].length))
  const times: Record<Kind, number[]> = { known: [], unknown: [], disabled: [] }
  const post = async (email: string) => {
    const response = await fetch(`${base}/v1/auth/otp`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ email }) })
    await response.arrayBuffer()
    if (response.status !== 202) throw new Error(`POST /v1/auth/otp answered ${response.status}`)
  }
  for (let round = 0; round < samples; round++) {
    for (const kind of [...KINDS.slice(round % 3), ...KINDS.slice(0, round % 3)]) {
      await post(identifiers[kind][round]!)
      const began = performance.now()
      await post(probeEmail('follow-up'))
      times[kind].push(performance.now() - began)
      await sleep(pauseMs)
    }
  }
  const medianOf = (kind: Kind) => round3(median(times[kind]))
  return {
    inProcessWorker,
    samples,
    followUpMedianMs: { known: medianOf('known'), unknown: medianOf('unknown'), disabled: medianOf('disabled') },
    differenceMs: round3(median(times.known) - median(times.unknown)),
    classifier: {
      inSample: round2(bestThreshold(times.known, times.unknown).accuracy),
      heldOut: round2(heldOutAccuracy(times.known, times.unknown))
    }
  }
}

export interface FollowUpServers {
  /** an API with closed sign-up; `inProcessWorker` says whether it sends codes itself */
  startApp: (env: Record<string, string>) => Promise<{ url: string, stop: () => Promise<void> }>
  /** a separate delivery worker (`npm run worker`), for the runs where the API only queues */
  startWorker: (env: Record<string, string>) => Promise<{ stop: () => Promise<void> }>
  /** makes accounts: active ones (known) and disabled ones */
  createUsers: (emails: string[], status: 'active' | 'disabled') => Promise<void>
}

/** The follow-up probe twice: the API sending its own codes (DELIVERY_WORKER=true), then a worker process sending. */
export async function measureFollowUps (
  servers: FollowUpServers, samples: number, pauseMs: number
): Promise<FollowUpTiming[]> {
  const results: FollowUpTiming[] = []
  for (const inProcessWorker of [true, false]) {
    const identifiers = {
      known: Array.from({ length: samples }, () => probeEmail('known')),
      unknown: Array.from({ length: samples }, () => probeEmail('unknown')),
      disabled: Array.from({ length: samples }, () => probeEmail('disabled'))
    }
    await servers.createUsers(identifiers.known, 'active')
    await servers.createUsers(identifiers.disabled, 'disabled')
    const env = { SIGNUP: 'closed', DELIVERY_WORKER: String(inProcessWorker) }
    const worker = inProcessWorker ? null : await servers.startWorker(env)
    const app = await servers.startApp(env)
    try {
      results.push(await measureFollowUp(app.url, identifiers, inProcessWorker, pauseMs))
    } finally {
      await app.stop()
      await worker?.stop()
    }
  }
  return results
}
