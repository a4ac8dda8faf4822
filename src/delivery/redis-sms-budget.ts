import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'
import type { SmsBudgetStore } from './sms-budget.ts'
import { withScripts, type ScriptCommands } from '../redis-lua/define-scripts.ts'

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
const SCRIPTS = {
  smsBudgetTake: { numberOfKeys: 1, lua: lua('sms-budget-take') },
  smsBudgetGiveBack: { numberOfKeys: 1, lua: lua('sms-budget-give-back') }
}

type BudgetCommands = ScriptCommands<keyof typeof SCRIPTS, number>

export interface RedisSmsBudgetOptions {
  /** prepended to every key. Default `sms-budget:` */
  keyPrefix?: string
}

/**
 * The SmsBudgetStore contract (see sms-budget.ts) on Redis or Redis Cluster, one Lua script per operation.
 * A counter is `<prefix>{<country>}:<hour>`: a country code and an hour number, no personal data.
 */
export class RedisSmsBudget implements SmsBudgetStore {
  readonly #redis: BudgetCommands
  readonly #keyPrefix: string

  constructor (redis: Redis | Cluster, options: RedisSmsBudgetOptions = {}) {
    this.#redis = withScripts<keyof typeof SCRIPTS, number>(redis, SCRIPTS)
    this.#keyPrefix = options.keyPrefix ?? 'sms-budget:'
  }

  #key (country: string, hour: number): string {
    return `${this.#keyPrefix}{${country}}:${hour}`
  }

  async take (country: string, hour: number, budget: number, ttlMs: number): Promise<boolean> {
    return await this.#redis.smsBudgetTake(this.#key(country, hour), budget, Math.max(1, Math.ceil(ttlMs))) === 1
  }

  async giveBack (country: string, hour: number): Promise<void> {
    await this.#redis.smsBudgetGiveBack(this.#key(country, hour))
  }
}
