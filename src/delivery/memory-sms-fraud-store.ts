import { WINDOW_BUCKETS, windowBucket, isPumped, type SmsFraudCount, type SmsFraudPolicy, type SmsFraudStore, type SmsFraudVerdict } from './sms-fraud-store.ts'

interface Stats { sent: Map<number, number>, verified: Map<number, number>, blockedUntil: number, touchedAt: number }

const newStats = (): Stats => ({ sent: new Map(), verified: new Map(), blockedUntil: 0, touchedAt: 0 })

/** Sums the buckets in (current - 60, current], dropping older ones. */
function windowSums (stats: Stats, current: number): { sent: number, verified: number } {
  const sum = (buckets: Map<number, number>) => {
    let total = 0
    for (const [bucket, count] of buckets) {
      if (bucket <= current - WINDOW_BUCKETS) buckets.delete(bucket)
      else if (bucket <= current) total += count
    }
    return total
  }
  return { sent: sum(stats.sent), verified: sum(stats.verified) }
}

/** SmsFraudStore in this process, for the embedded mode and tests. Contract in sms-fraud-store.ts. */
export class MemorySmsFraudStore implements SmsFraudStore {
  readonly #ranges = new Map<string, Stats>()
  readonly #countries = new Map<string, Stats>()

  #stats (map: Map<string, Stats>, key: string, policy: SmsFraudPolicy, now: number): Stats {
    // stats untouched for a window and a block are empty and unblocked: dropped, so memory follows live traffic
    for (const [other, stats] of map) if (stats.touchedAt + policy.windowMs + policy.blockMs < now) map.delete(other)
    const stats = map.get(key) ?? newStats()
    stats.touchedAt = Math.max(stats.touchedAt, now)
    map.set(key, stats)
    return stats
  }

  async admit (country: string, range: string, policy: SmsFraudPolicy, now: number): Promise<SmsFraudVerdict> {
    const countryStats = this.#stats(this.#countries, country, policy, now)
    if (countryStats.blockedUntil > now) return { outcome: 'blocked', scope: 'country', until: countryStats.blockedUntil, newly: false }
    const rangeStats = this.#stats(this.#ranges, `${country}|${range}`, policy, now)
    if (rangeStats.blockedUntil > now) return { outcome: 'blocked', scope: 'range', until: rangeStats.blockedUntil, newly: false }
    const { bucket } = windowBucket(policy, now)
    const { sent, verified } = windowSums(rangeStats, bucket)
    if (isPumped(policy, sent, verified)) {
      const until = now + policy.blockMs
      rangeStats.blockedUntil = until
      const blockedRanges = [...this.#ranges].filter(([key, stats]) => key.startsWith(`${country}|`) && stats.blockedUntil > now).length
      if (policy.countryBlockedRanges > 0 && blockedRanges >= policy.countryBlockedRanges) {
        countryStats.blockedUntil = until
        return { outcome: 'blocked', scope: 'country', until, newly: true }
      }
      return { outcome: 'blocked', scope: 'range', until, newly: true }
    }
    for (const stats of [rangeStats, countryStats]) stats.sent.set(bucket, (stats.sent.get(bucket) ?? 0) + 1)
    return { outcome: 'admitted' }
  }

  async count (
    country: string, range: string, what: SmsFraudCount, policy: SmsFraudPolicy, now: number
  ): Promise<void> {
    const { bucket } = windowBucket(policy, now)
    for (const stats of [this.#stats(this.#ranges, `${country}|${range}`, policy, now), this.#stats(this.#countries, country, policy, now)]) {
      windowSums(stats, bucket)
      if (what === 'verified') stats.verified.set(bucket, (stats.verified.get(bucket) ?? 0) + 1)
      else if ((stats.sent.get(bucket) ?? 0) > 0) stats.sent.set(bucket, stats.sent.get(bucket)! - 1)
    }
  }

  async stats (country: string, policy: SmsFraudPolicy, now: number): Promise<{ sent: number, verified: number }> {
    const stats = this.#countries.get(country)
    return stats ? windowSums(stats, windowBucket(policy, now).bucket) : { sent: 0, verified: 0 }
  }
}
