import { readFileSync } from 'node:fs'
import { randomBytes } from '../random-bytes.ts'
import type { Cluster, Redis } from 'ioredis'
import { withScripts, type ScriptCommands } from '../stores/redis-lua/define-scripts.ts'
import { FAILURE_THROTTLE_LUA, throttleArgs } from '../stores/redis-lua/failure-throttle.ts'
import type { ThrottleLimits } from '../throttle/throttling.ts'
import { NO_REPLICA_ACK, type ReplicaAck } from '../stores/replica-ack.ts'
import {
  isChallengeId,
  type ChallengePayload, type ChallengeSnapshot, type IssuedCode, type NewChallenge, type OtpStore,
  type LinkResult, type PendingChallenge, type ResendResult, type SendLimits, type SendRefusal, type StartResult,
  type VerifyResult
} from './otp-store.ts'

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')
const prelude = FAILURE_THROTTLE_LUA + lua('lib')
const SCRIPTS = {
  otpStartChallenge: { numberOfKeys: 4, lua: prelude + lua('start') },
  otpResendChallenge: { numberOfKeys: 1, lua: prelude + lua('resend') },
  otpVerifyChallenge: { numberOfKeys: 1, lua: prelude + lua('verify') },
  otpVerifyLink: { numberOfKeys: 1, lua: prelude + lua('verify-link') },
  otpWithdrawChallenge: { numberOfKeys: 1, lua: prelude + lua('withdraw') },
  otpReinstateChallenge: { numberOfKeys: 1, lua: prelude + lua('reinstate') }
}

type Reply = Array<string | number>

/** What ChallengeSnapshot is on Redis: the challenge hash as HGETALL listed it, and its expiry in Redis time. */
interface RedisSnapshot { fields: string[], expiresAt: number }
type ScriptName = keyof typeof SCRIPTS
type OtpCommands = ScriptCommands<ScriptName>

/** Unique sorted-set member for one send or failure; Redis Lua has no good randomness of its own. */
const slotId = () => randomBytes(9).toString('base64url')

function issued (reply: Reply): IssuedCode | SendRefusal {
  const [outcome, payload, createdAt, expiresAt, resendAfter, suspended] = reply
  if (outcome !== 'issued') return { outcome: outcome as SendRefusal['outcome'], retryAfterMs: Number(payload) }
  return {
    outcome,
    payload: JSON.parse(String(payload)) as ChallengePayload,
    createdAt: Number(createdAt),
    expiresAt: Number(expiresAt),
    resendAfter: Number(resendAfter),
    suspended: Number(suspended) === 1
  }
}

const flag = (value: boolean | undefined) => value === true ? '1' : '0'

export interface RedisOtpStoreOptions {
  /** prepended to every key; no braces, so the {bucket} hash tag stays the first. Default `otp:` */
  keyPrefix?: string
  /**
   * Tests only: epoch ms the scripts take as the time instead of Redis's own, so a test moves time (and shrinks
   * TTLs itself) rather than sleeping. Never in production, where every API host must share Redis's clock.
   */
  now?: () => number
  /** with REDIS_WAIT_REPLICAS: a started or resent challenge and a used code reach the replicas before the answer */
  replicaAck?: ReplicaAck
}

/**
 * The OtpStore contract (see otp-store.ts) on Redis or Redis Cluster: one Lua script per operation, so each is
 * one round trip and atomic. Keys are `<prefix>{<bucket>}:c:<random>` for a challenge and
 * `<prefix>{<bucket>}:d:<destinationKey>:…` for the destination's pointer, cooldown, quota, failures and lock;
 * all carry a TTL and no personal data.
 */
/** A verify script's `verified` reply: the payload, and the snapshot reinstate takes. */
function verifiedOf (payload: unknown, expiresAt: unknown, fields: unknown): Extract<VerifyResult, { outcome: 'verified' }> {
  // the challenge's HGETALL, as one JSON string (verify.lua)
  const snapshot: RedisSnapshot = { expiresAt: Number(expiresAt), fields: JSON.parse(String(fields)) as string[] }
  return {
    outcome: 'verified',
    payload: JSON.parse(String(payload)) as ChallengePayload,
    snapshot: snapshot as unknown as ChallengeSnapshot
  }
}

/** The payload a refused verify hands back (the 4th reply of verify.lua), so the caller knows whose code it was. */
const parsePayload = (value: unknown): ChallengePayload | undefined => typeof value === 'string' ? JSON.parse(value) as ChallengePayload : undefined

export class RedisOtpStore implements OtpStore {
  readonly #commands: OtpCommands
  readonly #client: Redis | Cluster
  readonly #prefix: string
  readonly #now: (() => number) | undefined
  readonly #ack: ReplicaAck

  /** `client`: a Redis or Cluster client without an ioredis keyPrefix; the store never closes it */
  constructor (client: Redis | Cluster, { keyPrefix = 'otp:', now, replicaAck = NO_REPLICA_ACK }: RedisOtpStoreOptions = {}) {
    if (/[{}]/.test(keyPrefix)) throw new Error('RedisOtpStore keyPrefix must not contain braces: the {bucket} hash tag has to be the first')
    // ioredis would prefix KEYS but not the key names the scripts build from stored values
    if ((client.options as { keyPrefix?: string }).keyPrefix) throw new Error('RedisOtpStore needs a client without an ioredis keyPrefix; use its own keyPrefix option')
    this.#commands = withScripts(client, SCRIPTS)
    this.#client = client
    this.#prefix = keyPrefix
    this.#now = now
    this.#ack = replicaAck
  }

  /**
   * A write the client relies on reaches the replicas it must, or is undone and the call fails (503): the client
   * holds no challenge, or its code still works, that a failover could take back.
   */
  async #durable<T> (key: string, result: T, undo: () => Promise<unknown>): Promise<T> {
    try {
      await this.#ack.confirm(key)
    } catch (error) {
      // the answer is the first error; an undo that fails too leaves what the TTL ends
      await undo().catch(() => {})
      throw error
    }
    return result
  }

  /** '' lets the scripts read Redis's own clock */
  #clock (): string {
    return this.#now === undefined ? '' : String(this.#now())
  }

  #destinationBase (destinationKey: string): string {
    return `${this.#prefix}{${destinationKey.slice(0, 4)}}:d:${destinationKey}:`
  }

  #challengeKey (challengeId: string): string {
    const [bucket, random] = challengeId.split('.')
    return `${this.#prefix}{${bucket}}:c:${random}`
  }

  async startChallenge (challenge: NewChallenge, limits: SendLimits, throttle: ThrottleLimits): Promise<StartResult> {
    const { challengeId, payload } = challenge
    if (!isChallengeId(challengeId) || !challengeId.startsWith(challenge.destinationKey.slice(0, 4))) {
      throw new Error('startChallenge needs a challenge id whose bucket is its destination key\'s')
    }
    const base = this.#destinationBase(challenge.destinationKey)
    const reply = await this.#commands.otpStartChallenge(
      this.#challengeKey(challengeId), `${base}p:${payload.purpose}`, `${base}cd:${payload.purpose}`, `${base}q`, this.#clock(),
      base, payload.purpose, JSON.stringify(payload), challenge.codeHash, challenge.maxAttempts, limits.ttlMs,
      flag(limits.exempt), limits.cooldownMs, limits.quota, limits.quotaWindowMs, slotId(), limits.dailyQuota,
      limits.dailyWindowMs, challenge.linkHash, ...throttleArgs(throttle)
    ) as Reply
    const result = issued(reply)
    if (result.outcome !== 'issued') return result
    return this.#durable(this.#challengeKey(challengeId), result, () => this.withdrawChallenge(challengeId))
  }

  async resendChallenge (
    challengeId: string, hashes: { codeHash: string, linkHash: string }, limits: SendLimits, throttle: ThrottleLimits
  ): Promise<ResendResult> {
    if (!isChallengeId(challengeId)) return { outcome: 'expired' }
    const reply = await this.#commands.otpResendChallenge(
      this.#challengeKey(challengeId), this.#clock(), hashes.codeHash, limits.ttlMs, flag(limits.exempt),
      limits.cooldownMs, limits.quota, limits.quotaWindowMs, slotId(), limits.dailyQuota, limits.dailyWindowMs,
      hashes.linkHash, ...throttleArgs(throttle)
    ) as Reply
    if (reply[0] === 'expired') return { outcome: 'expired' }
    const result = issued(reply)
    if (result.outcome !== 'issued') return result
    // the old code is replaced already: withdrawn, the client starts again rather than waits out a cooldown
    return this.#durable(this.#challengeKey(challengeId), result, () => this.withdrawChallenge(challengeId))
  }

  async verifyChallenge (
    challengeId: string, purpose: string, codeHashes: readonly string[], throttle: ThrottleLimits
  ): Promise<VerifyResult> {
    if (!isChallengeId(challengeId)) return { outcome: 'expired' }
    const [outcome, value, third, fields] = await this.#commands.otpVerifyChallenge(
      this.#challengeKey(challengeId), this.#clock(), purpose, codeHashes[0] ?? '', codeHashes[1] ?? '',
      ...throttleArgs(throttle)
    ) as [string, string | number, number?, string?]
    const notify = Number(third) === 1
    switch (outcome) {
      case 'verified': return this.#used(challengeId, verifiedOf(value, third, fields))
      case 'invalid': return { outcome, remainingAttempts: Number(value), payload: parsePayload(fields), notify }
      case 'throttled':
      case 'suspended': return { outcome, retryAfterMs: Number(value), payload: parsePayload(fields) }
      case 'exhausted': return { outcome, payload: parsePayload(fields), notify }
      default: return { outcome: 'expired' }
    }
  }

  async verifyLink (challengeId: string, purpose: string, linkHash: string): Promise<LinkResult> {
    if (!isChallengeId(challengeId)) return { outcome: 'expired' }
    const [outcome, value, third, fields] = await this.#commands.otpVerifyLink(
      this.#challengeKey(challengeId), this.#clock(), purpose, linkHash
    ) as [string, string, number?, string?]
    return outcome === 'verified' ? this.#used(challengeId, verifiedOf(value, third, fields)) : { outcome: 'expired' }
  }

  /** A used code stays used through a failover, or is put back (the client may try it again) and the call fails. */
  #used (challengeId: string, verified: Extract<VerifyResult, { outcome: 'verified' }>): Promise<Extract<VerifyResult, { outcome: 'verified' }>> {
    const undo = () => this.reinstateChallenge(challengeId, verified.snapshot)
    return this.#durable(this.#challengeKey(challengeId), verified, undo)
  }

  async clearFailures (destinationKey: string): Promise<void> {
    const base = this.#destinationBase(destinationKey)
    // the throttle's run, wait, failure log and notice, as lib.lua's otp_throttle names them (and `s`, the
    // suspension of earlier versions); one slot: every key carries the destination's {bucket} tag
    await this.#client.del(`${base}f`, `${base}l`, `${base}x`, `${base}n`, `${base}s`)
  }

  async withdrawChallenge (challengeId: string): Promise<boolean> {
    if (!isChallengeId(challengeId)) return false
    return await this.#commands.otpWithdrawChallenge(this.#challengeKey(challengeId), this.#clock()) === 1
  }

  async reinstateChallenge (challengeId: string, snapshot: ChallengeSnapshot): Promise<boolean> {
    if (!isChallengeId(challengeId)) return false
    const { expiresAt, fields } = snapshot as unknown as RedisSnapshot
    return await this.#commands.otpReinstateChallenge(
      this.#challengeKey(challengeId), this.#clock(), expiresAt, ...fields
    ) === 1
  }

  async peekChallenge (challengeId: string): Promise<PendingChallenge | null> {
    if (!isChallengeId(challengeId)) return null
    const [payload, expiresAt] = await this.#client.hmget(this.#challengeKey(challengeId), 'payload', 'expiresAt')
    if (payload == null || expiresAt == null) return null
    return { payload: JSON.parse(payload) as ChallengePayload, expiresAt: Number(expiresAt) }
  }

  /** The client belongs to whoever passed it in. */
  async close (): Promise<void> {}
}
