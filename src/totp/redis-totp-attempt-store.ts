import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'
import { withScripts, type ScriptCommands } from '../stores/redis-lua/define-scripts.ts'
import { FAILURE_THROTTLE_LUA, throttleArgs } from '../stores/redis-lua/failure-throttle.ts'
import type { ThrottleLimits } from '../throttle/throttling.ts'
import type { AttemptStart, TotpAttemptStore } from './totp-attempt-store.ts'

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
const throttled = (name: string) => ({ numberOfKeys: 4, lua: FAILURE_THROTTLE_LUA + lua(name) })
const SCRIPTS = {
  totpBeginAttempt: throttled('begin'),
  totpFailAttempt: throttled('fail'),
  totpSucceedAttempt: throttled('succeed'),
  totpForgiveAttempt: throttled('forgive'),
  totpSuspension: throttled('suspension'),
  totpClaimStep: { numberOfKeys: 1, lua: lua('claim-step') }
}

type TotpCommands = ScriptCommands<keyof typeof SCRIPTS>

const SUBJECT = /^[A-Za-z0-9:_-]{1,128}$/
function tag (subject: string): string {
  if (!SUBJECT.test(subject)) throw new Error('a TOTP attempt subject is 1-128 chars of [A-Za-z0-9:_-]')
  return `{${subject}}`
}

/**
 * The TotpAttemptStore contract (see totp-attempt-store.ts) on Redis or Redis Cluster. A subject's keys are
 * `<prefix>{<subject>}:r` (its run of failures), `:w` (wait), `:fl` (failure log of the suspension window) and
 * `:n` (notice sent),
 * and a user's last step is `<prefix>{<userId>}:s`; the hash tag keeps a subject's keys on one Cluster slot.
 * No key holds personal data.
 */
export class RedisTotpAttemptStore implements TotpAttemptStore {
  readonly #client: TotpCommands & Redis
  readonly #prefix: string
  readonly #now: (() => number) | undefined

  /**
   * `client`: a Redis or Cluster client without an ioredis keyPrefix; the store never closes it. `now`: tests only,
   * epoch ms the scripts take as the time instead of Redis's own (the failure log's entries are times).
   */
  constructor (client: Redis | Cluster, { keyPrefix = 'totp:', now }: { keyPrefix?: string, now?: () => number } = {}) {
    if (/[{}]/.test(keyPrefix)) throw new Error('RedisTotpAttemptStore keyPrefix must not contain braces')
    // this store only calls commands a Cluster has too; typed as Redis for their overloads
    this.#client = withScripts(client, SCRIPTS) as TotpCommands & Redis
    this.#prefix = keyPrefix
    this.#now = now
  }

  /** '' lets the scripts read Redis's own clock */
  #clock (): string {
    return this.#now === undefined ? '' : String(this.#now())
  }

  /** the subject's throttle keys, in the order the scripts' throttle_keys takes them: run, wait, failure log, notice */
  #keys (subject: string): string[] {
    const base = this.#prefix + tag(subject)
    return [`${base}:r`, `${base}:w`, `${base}:fl`, `${base}:n`]
  }

  async beginAttempt (subject: string, limits: ThrottleLimits): Promise<AttemptStart> {
    const [outcome, retryAfterMs] = await this.#client.totpBeginAttempt(
      ...this.#keys(subject), this.#clock(), ...throttleArgs(limits)
    ) as [string, number?]
    if (outcome === 'allowed') return { outcome }
    return { outcome: outcome === 'suspended' ? 'suspended' : 'throttled', retryAfterMs: Number(retryAfterMs) }
  }

  async suspendedMs (subject: string, limits: ThrottleLimits): Promise<number> {
    return Number(await this.#client.totpSuspension(...this.#keys(subject), this.#clock(), ...throttleArgs(limits)))
  }

  async failAttempt (subject: string, limits: ThrottleLimits): Promise<boolean> {
    return Number(await this.#client.totpFailAttempt(...this.#keys(subject), ...throttleArgs(limits))) === 1
  }

  async succeedAttempt (subject: string): Promise<void> {
    await this.#client.totpSucceedAttempt(...this.#keys(subject))
  }

  async forgiveAttempt (subject: string): Promise<void> {
    await this.#client.totpForgiveAttempt(...this.#keys(subject))
  }

  async clearFailures (subject: string): Promise<void> {
    // one slot: every key carries the subject's hash tag
    await this.#client.del(...this.#keys(subject))
  }

  async claimStep (userId: string, step: number, ttlMs: number): Promise<boolean> {
    return await this.#client.totpClaimStep(`${this.#prefix}${tag(userId)}:s`, step, ttlMs) === 1
  }

  /** The client belongs to whoever passed it in. */
  async close (): Promise<void> {}
}
