import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'
import type { SmsBudgetStore } from './sms-budget.ts'

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
const SCRIPTS = {
  smsBudgetTake: { numberOfKeys: 1, lua: lua('sms-budget-take') },
  smsBudgetGiveBack: { numberOfKeys: 1, lua: lua('sms-budget-give-back') }
}

type BudgetCommands = Record<keyof typeof SCRIPTS, (...keysAndArgs: Array<string | number>) => Promise<number>>

const defined = new WeakSet<Redis | Cluster>()
function withScripts (client: Redis | Cluster): BudgetCommands {
  if (!defined.has(client)) {
    for (const [name, definition] of Object.entries(SCRIPTS)) client.defineCommand(name, definition)
    defined.add(client)
  }
  return client as unknown as BudgetCommands
}

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
    this.#redis = withScripts(redis)
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
