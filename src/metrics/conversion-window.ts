import type { MetricsChannel } from './metrics.ts'

/** Codes sent and verified for one channel and country over the window. */
export interface ConversionCounts { channel: MetricsChannel, country: string, sent: number, verified: number }

const BUCKETS = 60

/**
 * Codes sent and successful verifications per channel and country over a sliding window (the SMS guard's,
 * SMS_FRAUD_WINDOW_SECONDS), in 60 buckets: O(1) per event, memory bounded by channels × countries × 61.
 */
export class ConversionWindow {
  readonly #bucketMs: number
  readonly #now: () => number
  readonly #series = new Map<string, Map<number, { sent: number, verified: number }>>()

  constructor (windowSeconds: number, now: () => number = Date.now) {
    this.#bucketMs = Math.max(1, Math.floor(windowSeconds * 1000 / BUCKETS))
    this.#now = now
  }

  record (channel: MetricsChannel, country: string, event: 'sent' | 'verified'): void {
    const key = `${channel}|${country}`
    let buckets = this.#series.get(key)
    if (buckets === undefined) this.#series.set(key, buckets = new Map())
    const current = Math.floor(this.#now() / this.#bucketMs)
    let bucket = buckets.get(current)
    if (bucket === undefined) {
      buckets.set(current, bucket = { sent: 0, verified: 0 })
      this.#prune(buckets, current)
    }
    bucket[event]++
  }

  /** The counts of every channel and country with an event in the window. */
  counts (): ConversionCounts[] {
    const current = Math.floor(this.#now() / this.#bucketMs)
    const result: ConversionCounts[] = []
    for (const [key, buckets] of this.#series) {
      this.#prune(buckets, current)
      if (buckets.size === 0) {
        this.#series.delete(key)
        continue
      }
      const [channel, country] = key.split('|') as [MetricsChannel, string]
      let sent = 0
      let verified = 0
      for (const bucket of buckets.values()) {
        sent += bucket.sent
        verified += bucket.verified
      }
      result.push({ channel, country, sent, verified })
    }
    return result
  }

  #prune (buckets: Map<number, unknown>, current: number): void {
    for (const index of buckets.keys()) if (index <= current - BUCKETS) buckets.delete(index)
  }
}

/** The counts of several processes (cluster workers) added up per channel and country. */
export function sumConversionCounts (lists: ConversionCounts[][]): ConversionCounts[] {
  const total = new Map<string, ConversionCounts>()
  for (const counts of lists.flat()) {
    const key = `${counts.channel}|${counts.country}`
    const sum = total.get(key)
    if (sum === undefined) total.set(key, { ...counts })
    else {
      sum.sent += counts.sent
      sum.verified += counts.verified
    }
  }
  return [...total.values()]
}
