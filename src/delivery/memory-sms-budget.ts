import type { ClientShare, SmsBudgetStore } from './sms-budget.ts'

/** SmsBudgetStore in this process, for the embedded mode and tests. Contract in sms-budget.ts. */
export class MemorySmsBudget implements SmsBudgetStore {
  readonly #counters = new Map<string, { used: number, expiresAt: number }>()
  readonly #now: () => number

  /** `now` in epoch ms; tests inject a clock to lapse counters without waiting */
  constructor (now: () => number = Date.now) {
    this.#now = now
  }

  #counter (key: string, ttlMs: number) {
    return this.#counters.get(key) ?? { used: 0, expiresAt: this.#now() + ttlMs }
  }

  async take (country: string, hour: number, budget: number, ttlMs: number, share?: ClientShare): Promise<boolean> {
    const now = this.#now()
    // past hours are never read again: at most one counter per country (and client) stays
    for (const [key, counter] of this.#counters) if (counter.expiresAt <= now) this.#counters.delete(key)
    const key = `${country}:${hour}`
    const counter = this.#counter(key, ttlMs)
    if (counter.used >= budget) return false
    const shareKey = `${key}:${share?.client}`
    const mine = share === undefined ? undefined : this.#counter(shareKey, ttlMs)
    if (mine !== undefined && mine.used >= share!.budget) return false
    counter.used += 1
    this.#counters.set(key, counter)
    if (mine !== undefined) {
      mine.used += 1
      this.#counters.set(shareKey, mine)
    }
    return true
  }

  async giveBack (country: string, hour: number, client?: string): Promise<void> {
    for (const key of [`${country}:${hour}`, ...client === undefined ? [] : [`${country}:${hour}:${client}`]]) {
      const counter = this.#counters.get(key)
      if (counter !== undefined && counter.expiresAt > this.#now() && counter.used > 0) counter.used -= 1
    }
  }
}
