import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { SLIDING_WINDOW_LUA } from '../redis-lua/sliding-window.ts'
import { withScripts, type ScriptCommands } from '../redis-lua/define-scripts.ts'
import type { AttemptStart, LockoutLimits, TotpAttemptStore } from './totp-attempt-store.ts'

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
const SCRIPTS = {
  totpBeginAttempt: { numberOfKeys: 2, lua: SLIDING_WINDOW_LUA + lua('begin') },
  totpFailAttempt: { numberOfKeys: 2, lua: SLIDING_WINDOW_LUA + lua('fail') },
  totpClaimStep: { numberOfKeys: 1, lua: lua('claim-step') }
}

type TotpCommands = ScriptCommands<keyof typeof SCRIPTS>

const SUBJECT = /^[A-Za-z0-9:_-]{1,128}$/
function tag (subject: string): string {
  if (!SUBJECT.test(subject)) throw new Error('a TOTP attempt subject is 1-128 chars of [A-Za-z0-9:_-]')
  return `{${subject}}`
}

/**
 * The TotpAttemptStore contract (see totp-attempt-store.ts) on Redis or Redis Cluster. Keys are
 * `<prefix>{<subject>}:a` (attempts, a sorted set) and `:l` (lock), and `<prefix>{<userId>}:s` (last step); the
 * hash tag keeps a subject's keys on one Cluster slot. Every key has a TTL and holds no personal data.
 */
export class RedisTotpAttemptStore implements TotpAttemptStore {
  readonly #client: TotpCommands & Redis
  readonly #prefix: string

  /** `client`: a Redis or Cluster client without an ioredis keyPrefix; the store never closes it */
  constructor (client: Redis | Cluster, { keyPrefix = 'totp:' }: { keyPrefix?: string } = {}) {
    if (/[{}]/.test(keyPrefix)) throw new Error('RedisTotpAttemptStore keyPrefix must not contain braces')
    // this store only calls commands a Cluster has too; typed as Redis for their overloads
    this.#client = withScripts(client, SCRIPTS) as TotpCommands & Redis
    this.#prefix = keyPrefix
  }

  async beginAttempt (subject: string, limits: LockoutLimits): Promise<AttemptStart> {
    const base = this.#prefix + tag(subject)
    const slot = randomBytes(9).toString('base64url')
    const [outcome, retryAfterMs] = await this.#client.totpBeginAttempt(`${base}:a`, `${base}:l`, slot, limits.threshold, limits.windowMs) as [string, number?]
    return outcome === 'allowed' ? { outcome, slot } : { outcome: 'locked', retryAfterMs: Number(retryAfterMs) }
  }

  async failAttempt (subject: string, slot: string, limits: LockoutLimits): Promise<number> {
    const base = this.#prefix + tag(subject)
    return Number(await this.#client.totpFailAttempt(`${base}:a`, `${base}:l`, slot, limits.threshold, limits.windowMs, limits.lockoutMs))
  }

  async forgiveAttempt (subject: string, slot: string): Promise<void> {
    await this.#client.zrem(`${this.#prefix}${tag(subject)}:a`, slot)
  }

  async claimStep (userId: string, step: number, ttlMs: number): Promise<boolean> {
    return await this.#client.totpClaimStep(`${this.#prefix}${tag(userId)}:s`, step, ttlMs) === 1
  }

  /** The client belongs to whoever passed it in. */
  async close (): Promise<void> {}
}
