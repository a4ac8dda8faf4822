/**
 * How many SMS each destination country was sent in one hour, against a budget: one counter per country and
 * hour, shared by every instance on Redis, per process in memory. Key names hold the country code and the hour,
 * never a number.
 *
 * - `take(country, hour, budget, ttlMs, share?)`: atomically, when fewer than `budget` were taken for (country,
 *   hour) and, with a share, fewer than `share.budget` by `share.client`, takes one (from both) and returns true;
 *   otherwise takes nothing and returns false. A counter lapses `ttlMs` after its first take (the caller makes
 *   that outlast the hour).
 * - `giveBack(country, hour, client?)`: returns one taken unit (and the client's); nothing to a counter that is
 *   at zero or has lapsed.
 */
export interface SmsBudgetStore {
  take (country: string, hour: number, budget: number, ttlMs: number, share?: ClientShare): Promise<boolean>
  giveBack (country: string, hour: number, client?: string): Promise<void>
}

/**
 * One client's part of a country's budget, so draining it takes many clients. `client` is an opaque key, never an IP.
 */
export interface ClientShare {
  client: string
  budget: number
}
