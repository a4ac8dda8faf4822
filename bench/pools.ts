import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

/** Every address here is a test identifier of the bench's server: fixed code, no message sent, real Redis path. */
export const TEST_DOMAIN = 'loadtest.example'
export const TEST_CODE = '000000'
export const JSON_HEADERS = { 'content-type': 'application/json' }
/** well-formed but never issued: what a request goes out with when its pool ran dry (answered 410 or 401) */
export const NO_CHALLENGE = '0000.AAAAAAAAAAAAAAAAAAAAAA'
export const NO_REFRESH_TOKEN = 'A'.repeat(43)

export const newEmail = () => `u${randomBytes(8).toString('hex')}@${TEST_DOMAIN}`
/** Not a test identifier: its code is queued and sent, to the bench's fake SendGrid. */
export const DELIVERED_DOMAIN = 'delivered.example'
export const newDeliveredEmail = () => `u${randomBytes(8).toString('hex')}@${DELIVERED_DOMAIN}`

/**
 * How long a pooled challenge stays usable: the app's OTP_TTL_SECONDS (300 by default) less a margin, so one
 * left over from an earlier scenario is never sent to expire (410) in a later one.
 */
const CHALLENGE_SHELF_LIFE_MS = 240_000

/**
 * How long a pooled access token is used by `me`: the app's ACCESS_TOKEN_TTL_SECONDS (900 by default) less a
 * margin. A full bench runs longer than that, so the metrics pairs' `me` runs sign in again rather than send
 * expired tokens (401s counted as throughput).
 */
const ACCESS_TOKEN_SHELF_LIFE_MS = 600_000

export interface Login { accessToken: string, refreshToken: string, email: string, madeAt: number }

/** One refresh-token chain: each refresh must present the latest token, or the session is revoked. */
export interface Chain { refreshToken: string, inFlight: boolean }

export const challengeOf = (body: string) => (JSON.parse(body) as { challengeId: string }).challengeId

export function loginOf (body: string): Login {
  const { accessToken, refreshToken, user } = JSON.parse(body) as {
    accessToken: string, refreshToken: string, user: { email: string }
  }
  return { accessToken, refreshToken, email: user.email, madeAt: Date.now() }
}

/** A POST that rides out load shedding (503) left over from the run before. */
async function post (url: string, body: unknown): Promise<{ status: number, body: string }> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) })
    const text = await response.text()
    if (response.status !== 503 || attempt === 5) return { status: response.status, body: text }
    await sleep(500)
  }
}

async function inParallel (count: number, concurrency: number, task: () => Promise<void>): Promise<void> {
  let left = count
  await Promise.all(Array.from({ length: Math.min(count, concurrency) }, async () => {
    while (left-- > 0) await task()
  }))
}

/**
 * What scenarios hand on to each other: challenges started by `start` are verified by `verify`, whose sessions
 * feed `refresh` and `me`, and whose users are the known identifiers of the enumeration probe. A scenario run
 * on its own (BENCH_ONLY) tops its pool up through the API first.
 */
export class Pools {
  /** started challenges, oldest first, with when they were made */
  readonly #challenges: Array<{ id: string, madeAt: number }> = []
  /** every login so far; `me` uses their access tokens, which stay valid while their refresh tokens rotate */
  readonly logins: Login[] = []
  readonly chains: Chain[] = []
  /** logins[0 … chained) already back a chain */
  #chained = 0
  /** requests that went out without an item because a pool was empty */
  starved = 0
  /** `<status> <problem code>` of every error answer the scenarios read */
  readonly problems = new Map<string, number>()

  recordProblem (status: number, body: string): void {
    let code = 'no problem body'
    try { code = String((JSON.parse(body) as { code?: unknown }).code) } catch { /* not JSON */ }
    const key = `${status} ${code}`
    this.problems.set(key, (this.problems.get(key) ?? 0) + 1)
  }

  get challengesLeft (): number {
    return this.#challenges.length
  }

  takeChallenge (): string {
    const challenge = this.#challenges.pop()
    if (challenge === undefined) this.starved++
    return challenge?.id ?? NO_CHALLENGE
  }

  /** A chain nobody else refreshes: a returned one, or a new one from a login not chained yet. */
  takeChain (): Chain | undefined {
    const login = this.chains.length === 0 ? this.logins[this.#chained] : undefined
    if (login) this.#chained++
    const chain = this.chains.pop() ?? (login && { refreshToken: login.refreshToken, inFlight: false })
    if (chain === undefined) this.starved++
    return chain
  }

  async ensureChallenges (base: string, count: number): Promise<void> {
    const firstFresh = this.#challenges.findIndex(({ madeAt }) => Date.now() - madeAt < CHALLENGE_SHELF_LIFE_MS)
    this.#challenges.splice(0, firstFresh === -1 ? this.#challenges.length : firstFresh)
    await inParallel(count - this.#challenges.length, 50, async () => {
      const response = await post(`${base}/v1/auth/otp`, { email: newEmail() })
      if (response.status !== 202) throw new Error(`POST /v1/auth/otp answered ${response.status}: ${response.body}`)
      this.#challenges.push({ id: challengeOf(response.body), madeAt: Date.now() })
    })
  }

  /** the logins whose access tokens `me` can still use */
  get freshLogins (): Login[] {
    return this.logins.filter(({ madeAt }) => Date.now() - madeAt < ACCESS_TOKEN_SHELF_LIFE_MS)
  }

  async ensureFreshLogins (base: string, count: number): Promise<void> {
    await this.#signIn(base, count - this.freshLogins.length)
  }

  async ensureLogins (base: string, count: number): Promise<void> {
    await this.#signIn(base, count - this.logins.length)
  }

  async #signIn (base: string, missing: number): Promise<void> {
    await this.ensureChallenges(base, missing)
    await inParallel(missing, 50, async () => {
      const response = await post(`${base}/v1/auth/otp/verify`, { challengeId: this.takeChallenge(), code: TEST_CODE })
      if (response.status !== 200) throw new Error(`POST /v1/auth/otp/verify answered ${response.status}: ${response.body}`)
      this.logins.push(loginOf(response.body))
    })
  }

  async ensureChains (base: string, count: number): Promise<void> {
    await this.ensureLogins(
      base, this.logins.length + count - this.chains.length - (this.logins.length - this.#chained)
    )
  }
}
