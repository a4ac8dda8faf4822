import {
  MAX_NETWORKS, WINDOW_BUCKETS, historyDays, windowBucket, isPumped,
  type SmsCountryStats, type SmsFraudCount, type SmsFraudPolicy, type SmsFraudStore, type SmsFraudVerdict
} from './sms-fraud-store.ts'

interface Stats {
  sent: Map<number, number>
  verified: Map<number, number>
  blockedUntil: number
  /** a country's: until when no new alert is raised */
  alertedUntil: number
  touchedAt: number
}

const newStats = (): Stats => ({ sent: new Map(), verified: new Map(), blockedUntil: 0, alertedUntil: 0, touchedAt: 0 })

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
  /** verified codes per day of each range (`country|range`) */
  readonly #history = new Map<string, Map<number, number>>()
  /** when each client network of a country last sent (insertion order: oldest first) */
  readonly #networks = new Map<string, Map<string, number>>()

  #stats (map: Map<string, Stats>, key: string, policy: SmsFraudPolicy, now: number): Stats {
    // stats untouched for a window and a block are empty and unblocked: dropped, so memory follows live traffic
    for (const [other, stats] of map) if (stats.touchedAt + policy.windowMs + policy.blockMs < now) map.delete(other)
    const stats = map.get(key) ?? newStats()
    stats.touchedAt = Math.max(stats.touchedAt, now)
    map.set(key, stats)
    return stats
  }

  /** The range's verified codes on the days before today within historyMs. */
  #verifiedBefore (key: string, policy: SmsFraudPolicy, now: number): number {
    const { today, days } = historyDays(policy, now)
    let total = 0
    for (const [day, count] of this.#history.get(key) ?? []) if (day >= today - days && day < today) total += count
    return total
  }

  async admit (
    country: string, range: string, policy: SmsFraudPolicy, now: number, network?: string
  ): Promise<SmsFraudVerdict> {
    const countryStats = this.#stats(this.#countries, country, policy, now)
    const rangeStats = this.#stats(this.#ranges, `${country}|${range}`, policy, now)
    const blockedRanges = () => [...this.#ranges].filter(([key, stats]) => key.startsWith(`${country}|`) && stats.blockedUntil > now).length
    if (rangeStats.blockedUntil > now) {
      return { outcome: 'blocked', until: rangeStats.blockedUntil, newly: false, alert: false, blockedRanges: blockedRanges() }
    }
    const { bucket } = windowBucket(policy, now)
    const { sent, verified } = windowSums(rangeStats, bucket)
    const exempt = policy.historyMs > 0 && this.#verifiedBefore(`${country}|${range}`, policy, now) >= policy.historyMinVerified
    if (isPumped(policy, sent, verified) && !exempt) {
      const until = now + policy.blockMs
      rangeStats.blockedUntil = until
      const blocked = blockedRanges()
      const threshold = policy.countryAlertRanges
      const alert = threshold > 0 && blocked >= threshold && countryStats.alertedUntil <= now
      if (alert) countryStats.alertedUntil = until
      return { outcome: 'blocked', until, newly: true, alert, blockedRanges: blocked }
    }
    for (const stats of [rangeStats, countryStats]) stats.sent.set(bucket, (stats.sent.get(bucket) ?? 0) + 1)
    if (network !== undefined) this.#addNetwork(country, network, policy, now)
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
    if (what === 'verified' && policy.historyMs > 0) this.#addHistory(`${country}|${range}`, policy, now)
  }

  #addHistory (key: string, policy: SmsFraudPolicy, now: number): void {
    const { today, days } = historyDays(policy, now)
    // days that left the history are dropped, and ranges left with none: memory follows the ranges in use
    for (const [other, perDay] of this.#history) {
      for (const day of perDay.keys()) if (day < today - days) perDay.delete(day)
      if (perDay.size === 0 && other !== key) this.#history.delete(other)
    }
    const perDay = this.#history.get(key) ?? new Map<number, number>()
    perDay.set(today, (perDay.get(today) ?? 0) + 1)
    this.#history.set(key, perDay)
  }

  #addNetwork (country: string, network: string, policy: SmsFraudPolicy, now: number): void {
    const networks = this.#networks.get(country) ?? new Map<string, number>()
    networks.delete(network)
    networks.set(network, now)
    // oldest first: the ones that left the window, and beyond MAX_NETWORKS the least recent
    for (const [other, at] of networks) {
      if (at > now - policy.windowMs && networks.size <= MAX_NETWORKS) break
      networks.delete(other)
    }
    this.#networks.set(country, networks)
  }

  async stats (country: string, policy: SmsFraudPolicy, now: number): Promise<SmsCountryStats> {
    const stats = this.#countries.get(country)
    const counts = stats ? windowSums(stats, windowBucket(policy, now).bucket) : { sent: 0, verified: 0 }
    let networks = 0
    for (const at of this.#networks.get(country)?.values() ?? []) {
      if (at > now - policy.windowMs && at <= now) networks++
    }
    return { ...counts, networks }
  }
}
