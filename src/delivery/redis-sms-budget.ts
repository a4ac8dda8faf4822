import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'
import type { ClientShare, SmsBudgetStore } from './sms-budget.ts'
import { withScripts, type ScriptCommands } from '../stores/redis-lua/define-scripts.ts'

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
const SCRIPTS = {
  smsBudgetTake: { numberOfKeys: 2, lua: lua('sms-budget-take') },
  smsBudgetGiveBack: { numberOfKeys: 2, lua: lua('sms-budget-give-back') }
}

type BudgetCommands = ScriptCommands<keyof typeof SCRIPTS, number>

export interface RedisSmsBudgetOptions {
  /** prepended to every key. Default `sms-budget:` */
  keyPrefix?: string
}

/**
 * The SmsBudgetStore contract (see sms-budget.ts) on Redis or Redis Cluster, one Lua script per operation.
 * A counter is `<prefix>{<country>}:<hour>`, a client's share `<prefix>{<country>}:<hour>:c:<client>`: a
 * country code, an hour number and an opaque client key, no personal data.
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

  #shareKey (country: string, hour: number, client: string | undefined): string {
    // without a client the script gets a key it never writes (share 0), so every call names two keys of one slot
    return `${this.#key(country, hour)}:c:${client ?? ''}`
  }

  async take (country: string, hour: number, budget: number, ttlMs: number, share?: ClientShare): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs))
    const reply = await this.#redis.smsBudgetTake(
      this.#key(country, hour), this.#shareKey(country, hour, share?.client), budget, ttl, share?.budget ?? 0
    )
    return reply === 1
  }

  async giveBack (country: string, hour: number, client?: string): Promise<void> {
    await this.#redis.smsBudgetGiveBack(this.#key(country, hour), this.#shareKey(country, hour, client))
  }
}
