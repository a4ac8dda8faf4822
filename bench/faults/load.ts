// The steady mixed load of `npm run faults`: an open loop (requests go out at a fixed rate whatever the answers, as
// users arrive) over the API instances, round-robin. An instance that refused or cut a connection is left out until
// its /health/live answers again, probed twice a second, as a load balancer ejects one and re-admits it. Every
// request is recorded with its send time, for the row and the recovery time; what the checks need afterwards is
// kept aside.
import { TEST_CODE, newDeliveredEmail, newEmail } from '../pools.ts'
import { problemOf, send, type Outcome } from './http.ts'

export type Kind = 'start' | 'start-test' | 'verify' | 'refresh' | 'me'
const KINDS: Kind[] = ['start', 'start-test', 'verify', 'refresh', 'me']

export interface Login { accessToken: string, refreshToken: string, madeAt: number }
export interface Acknowledged { challengeId: string, email: string, at: number }
export interface RequestRecord { kind: Kind, sentAt: number, outcome: Outcome }

const TICK_MS = 20
const PROBE_INTERVAL_MS = 500
/** the client gives up on an answer after this long; such a request counts as a timeout */
export const CLIENT_TIMEOUT_MS = 10_000
/** beyond this many requests awaiting an answer the client stops adding more (counted as not sent) */
const MAX_IN_FLIGHT = 3000

const tokensOf = (body: string): Login => {
  const { accessToken, refreshToken } = JSON.parse(body) as { accessToken: string, refreshToken: string }
  return { accessToken, refreshToken, madeAt: Date.now() }
}

export class MixedLoad {
  readonly records: RequestRecord[] = []
  /** delivered-address challenges answered 202: their codes come through the fake SendGrid */
  readonly acknowledged: Acknowledged[] = []
  /** logins nobody uses during the load: the sleeping refresh tokens and the sessions revoked before a fault */
  readonly spare: Login[] = []
  notSent = 0
  readonly #instances: string[]
  readonly #down = new Set<string>()
  readonly #testChallenges: string[] = []
  readonly #chains: Login[] = []
  readonly #accessTokens: string[] = []
  #next = 0
  #inFlight = 0
  #issued = 0
  #madeLogins = 0

  constructor (instances: string[], seed: Login[]) {
    this.#instances = instances
    for (const login of seed) this.#keep(login)
  }

  get instances (): string[] { return this.#instances }

  /** The next instance not left out (any, if all are). */
  pick (): string {
    for (let tries = 0; tries < this.#instances.length; tries++) {
      const base = this.#instances[this.#next++ % this.#instances.length]!
      if (!this.#down.has(base)) return base
    }
    return this.#instances[this.#next++ % this.#instances.length]!
  }

  /** A restarted instance (new port) takes the place of the one at `index`. */
  replace (index: number, base: string): void {
    this.#down.delete(this.#instances[index]!)
    this.#instances[index] = base
  }

  async #probe (): Promise<void> {
    for (const base of [...this.#down]) {
      const outcome = await send(base, 'GET', '/health/live', { timeoutMs: PROBE_INTERVAL_MS })
      if (outcome.status === 200) this.#down.delete(base)
    }
  }

  /** Sends at `rate` req/s for `seconds`, the kinds in turn; resolves once every answer is in. */
  async run (rate: number, seconds: number): Promise<void> {
    const began = performance.now()
    const pending = new Set<Promise<void>>()
    const issuedBefore = this.#issued
    const probes = setInterval(() => { this.#probe().catch(() => {}) }, PROBE_INTERVAL_MS)
    while (performance.now() - began < seconds * 1000) {
      const due = Math.floor((performance.now() - began) / 1000 * rate) - (this.#issued - issuedBefore)
      for (let i = 0; i < due; i++) {
        this.#issued++
        if (this.#inFlight >= MAX_IN_FLIGHT) { this.notSent++; continue }
        const promise = this.#one(KINDS[this.#issued % KINDS.length]!)
        pending.add(promise)
        promise.finally(() => pending.delete(promise))
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS))
    }
    clearInterval(probes)
    await Promise.all(pending)
  }

  async #one (kind: Kind): Promise<void> {
    const base = this.pick()
    const sentAt = Date.now()
    this.#inFlight++
    let outcome: Outcome
    try {
      outcome = await this.#request(kind, base)
    } finally {
      this.#inFlight--
    }
    if (outcome.failure === 'connection') this.#down.add(base)
    this.records.push({ kind, sentAt, outcome })
  }

  async #request (kind: Kind, base: string): Promise<Outcome> {
    const timeoutMs = CLIENT_TIMEOUT_MS
    switch (kind) {
      case 'start': {
        const email = newDeliveredEmail()
        const outcome = await send(base, 'POST', '/v1/auth/otp', { body: { email }, timeoutMs })
        if (outcome.status === 202) {
          this.acknowledged.push({ challengeId: challengeOf(outcome.body), email, at: Date.now() })
        }
        return outcome
      }
      case 'start-test': {
        const outcome = await send(base, 'POST', '/v1/auth/otp', { body: { email: newEmail() }, timeoutMs })
        if (outcome.status === 202) this.#testChallenges.push(challengeOf(outcome.body))
        return outcome
      }
      case 'verify': {
        const challengeId = this.#testChallenges.shift()
        if (challengeId === undefined) return skipped()
        const outcome = await send(base, 'POST', '/v1/auth/otp/verify', { body: { challengeId, code: TEST_CODE }, timeoutMs })
        if (outcome.status === 200) this.#keep(tokensOf(outcome.body))
        return outcome
      }
      case 'refresh': {
        // each chain is refreshed by one request at a time, always with the token its last refresh gave
        const chain = this.#chains.shift()
        if (chain === undefined) return skipped()
        const outcome = await send(base, 'POST', '/v1/auth/token/refresh', { body: { refreshToken: chain.refreshToken }, timeoutMs })
        // any other answer may or may not have rotated it: the chain is dropped rather than revoked by a reuse
        if (outcome.status === 200) this.#chains.push(tokensOf(outcome.body))
        return outcome
      }
      case 'me': {
        const token = this.#accessTokens[this.#issued % Math.max(this.#accessTokens.length, 1)]
        if (token === undefined) return skipped()
        return send(base, 'GET', '/v1/me', { token, timeoutMs })
      }
    }
  }

  /** New logins feed, in turn, the refresh chains, the access tokens of `me` and the spare pool. */
  #keep (login: Login): void {
    const slot = this.#madeLogins++ % 3
    if (slot === 0) this.#chains.push(login)
    else if (slot === 1) this.#accessTokens.push(login.accessToken)
    else this.spare.push(login)
  }

  takeSpare (count: number): Login[] {
    return this.spare.splice(0, count)
  }
}

const challengeOf = (body: string) => (JSON.parse(body) as { challengeId: string }).challengeId

/** A pool ran dry (an earlier failure ate it): recorded as an answer-less 0, left out of every column but `sent`. */
const skipped = (): Outcome => ({ status: 0, retryAfter: false, body: '', failure: null, ms: 0 })

export { problemOf }
