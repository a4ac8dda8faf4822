import type { SmsBudgetStore } from './sms-budget.ts'

/** SmsBudgetStore in this process, for the embedded mode and tests. Contract in sms-budget.ts. */
export class MemorySmsBudget implements SmsBudgetStore {
  readonly #counters = new Map<string, { used: number, expiresAt: number }>()
  readonly #now: () => number

  /** `now` in epoch ms; tests inject a clock to lapse counters without waiting */
  constructor (now: () => number = Date.now) {
    this.#now = now
  }

  async take (country: string, hour: number, budget: number, ttlMs: number): Promise<boolean> {
    const now = this.#now()
    // past hours are never read again: at most one counter per country stays
    for (const [key, counter] of this.#counters) if (counter.expiresAt <= now) this.#counters.delete(key)
    const key = `${country}:${hour}`
    const counter = this.#counters.get(key) ?? { used: 0, expiresAt: now + ttlMs }
    if (counter.used >= budget) return false
    counter.used += 1
    this.#counters.set(key, counter)
    return true
  }

  async giveBack (country: string, hour: number): Promise<void> {
    const counter = this.#counters.get(`${country}:${hour}`)
    if (counter !== undefined && counter.expiresAt > this.#now() && counter.used > 0) counter.used -= 1
  }
}
