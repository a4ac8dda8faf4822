import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'
import { withScripts, type ScriptCommands } from '../stores/redis-lua/define-scripts.ts'
import { DAY_MS, MAX_NETWORKS, WINDOW_BUCKETS, historyDays, windowBucket, type SmsCountryStats, type SmsFraudCount, type SmsFraudPolicy, type SmsFraudStore, type SmsFraudVerdict } from './sms-fraud-store.ts'

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
const LIB = lua('sms-fraud-lib')
const SCRIPTS = {
  smsFraudAdmit: { numberOfKeys: 5, lua: LIB + lua('sms-fraud-admit') },
  smsFraudCount: { numberOfKeys: 3, lua: LIB + lua('sms-fraud-count') },
  smsFraudStats: { numberOfKeys: 2, lua: LIB + lua('sms-fraud-stats') }
}

type FraudCommands = ScriptCommands<keyof typeof SCRIPTS, Array<string | number>>

export interface RedisSmsFraudStoreOptions {
  /** prepended to every key. Default `sms-fraud:` */
  keyPrefix?: string
}

/**
 * The SmsFraudStore contract (see sms-fraud-store.ts) on Redis or Redis Cluster, one Lua script per operation.
 * Keys hold a country code and a number range (the number without its last 4 digits, 10,000 numbers), never a
 * whole number; every key of a country shares the `{<country>}` hash tag, so one script sees the range, its
 * history, the country and its blocked ranges on one Cluster slot (the SMS budget's counter of that country sits
 * there too). A range's history of verified codes lives historyMs and a day, the other keys a window and a block.
 */
export class RedisSmsFraudStore implements SmsFraudStore {
  readonly #redis: FraudCommands
  readonly #keyPrefix: string

  constructor (redis: Redis | Cluster, options: RedisSmsFraudStoreOptions = {}) {
    this.#redis = withScripts<keyof typeof SCRIPTS, Array<string | number>>(redis, SCRIPTS)
    this.#keyPrefix = options.keyPrefix ?? 'sms-fraud:'
  }

  #keys (country: string, range: string): [string, string, string] {
    const base = `${this.#keyPrefix}{${country}}:`
    return [`${base}range:${range}`, `${base}country`, `${base}history:${range}`]
  }

  // counters outlive the window and a block, then lapse by themselves
  #ttlMs = (policy: SmsFraudPolicy) => policy.windowMs + policy.blockMs

  async admit (
    country: string, range: string, policy: SmsFraudPolicy, now: number, network?: string
  ): Promise<SmsFraudVerdict> {
    const [rangeKey, countryKey, historyKey] = this.#keys(country, range)
    const { bucketMs } = windowBucket(policy, now)
    const [outcome, until, newly, alert, blockedRanges] = await this.#redis.smsFraudAdmit(
      rangeKey, countryKey, `${this.#keyPrefix}{${country}}:blocked-ranges`, historyKey, this.#networksKey(country),
      range, now, bucketMs, WINDOW_BUCKETS, policy.minSends, policy.minConversion, policy.blockMs,
      policy.countryAlertRanges, this.#ttlMs(policy), DAY_MS, historyDays(policy, now).days, policy.historyMinVerified,
      network ?? '', MAX_NETWORKS
    )
    if (outcome === 'admitted') return { outcome }
    return { outcome: 'blocked', until: Number(until), newly: Number(newly) === 1, alert: Number(alert) === 1, blockedRanges: Number(blockedRanges) }
  }

  async count (
    country: string, range: string, what: SmsFraudCount, policy: SmsFraudPolicy, now: number
  ): Promise<void> {
    const [rangeKey, countryKey, historyKey] = this.#keys(country, range)
    await this.#redis.smsFraudCount(
      rangeKey, countryKey, historyKey, what === 'verified' ? 'v' : 's', now, windowBucket(policy, now).bucketMs, WINDOW_BUCKETS,
      this.#ttlMs(policy), DAY_MS, historyDays(policy, now).days
    )
  }

  async stats (country: string, policy: SmsFraudPolicy, now: number): Promise<SmsCountryStats> {
    const [, countryKey] = this.#keys(country, '')
    const [sent, verified, networks] = await this.#redis.smsFraudStats(
      countryKey, this.#networksKey(country), now, windowBucket(policy, now).bucketMs, WINDOW_BUCKETS
    )
    return { sent: Number(sent), verified: Number(verified), networks: Number(networks) }
  }

  // members are the guard's keys of client networks (HMACs), never an address
  #networksKey = (country: string) => `${this.#keyPrefix}{${country}}:networks`
}
