/**
 * How many SMS each destination country was sent in one hour, against a budget: one counter per country and
 * hour, shared by every instance on Redis, per process in memory. Key names hold the country code and the hour,
 * never a number.
 *
 * - `take(country, hour, budget, ttlMs)`: atomically, when fewer than `budget` were taken for (country, hour),
 *   takes one and returns true; otherwise takes nothing and returns false. The counter lapses `ttlMs` after its
 *   first take (the caller makes that outlast the hour).
 * - `giveBack(country, hour)`: returns one taken unit; nothing when none is left or the counter has lapsed.
 */
export interface SmsBudgetStore {
  take (country: string, hour: number, budget: number, ttlMs: number): Promise<boolean>
  giveBack (country: string, hour: number): Promise<void>
}
