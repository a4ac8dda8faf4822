import { randomBytes } from 'node:crypto'
import type { Client, Options, Request } from 'autocannon'
import { JSON_HEADERS, NO_CHALLENGE, NO_REFRESH_TOKEN, TEST_CODE, challengeOf, loginOf, newDeliveredEmail, newEmail, type Chain, type Pools } from './pools.ts'

export interface PrepareContext {
  pools: Pools
  app: string
  floor: string
  connections: number
  seconds: number
  /** req/s the warm-up measured; before the warm-up, an upper bound of what the scenario could do */
  rate: number
}

/** The options of one autocannon run, and what to do once it is over. */
export interface Load { options: Partial<Options>, finish?: () => void }

export interface Scenario {
  name: string
  server: 'app' | 'floor'
  /** the floor scenario this one is compared with */
  floor?: string
  /** why that floor, for the report */
  note?: string
  /** makes sure the pools (and the database) hold what a run of `seconds` with `connections` needs */
  prepare?: (run: PrepareContext) => Promise<void>
  /** req/s the scenario cannot exceed here, to size its pools before a warm-up has measured its rate */
  rateBound?: number
  /** tops the pools up while a run goes, when it may take more than prepare's estimate (a faster server) */
  refill?: (run: PrepareContext) => Promise<void>
  load: (pools: Pools) => Load
}

const bodyOf = (value: unknown) => (request: Request): Request => ({ ...request, body: JSON.stringify(value) })

const startRequest = (email: () => string, onResponse: Request['onResponse']): Request => ({
  method: 'POST',
  path: '/v1/auth/otp',
  headers: JSON_HEADERS,
  setupRequest: (request) => bodyOf({ email: email() })(request),
  onResponse
})

/** `keep`: the sessions made join the pool (for refresh and me) */
const verifyRequest = (
  pools: Pools, challenge: (context: Record<string, unknown>) => string, keep = true
): Request => ({
  method: 'POST',
  path: '/v1/auth/otp/verify',
  headers: JSON_HEADERS,
  setupRequest: (request, context) => bodyOf({ challengeId: challenge(context), code: TEST_CODE })(request),
  onResponse: (status, body) => {
    if (status !== 200) pools.recordProblem(status, body)
    else if (keep) pools.logins.push(loginOf(body))
  }
})

const floorRequest = (path: string): Request => ({
  method: 'POST',
  path,
  headers: JSON_HEADERS,
  setupRequest: (request) => bodyOf({ id: randomBytes(12).toString('hex') })(request)
})

/** Each connection refreshes a chain of its own and always presents the token the last refresh gave it. */
function refreshLoad (pools: Pools): Load {
  const taken: Chain[] = []
  const take = () => {
    const chain = pools.takeChain()
    if (chain) taken.push(chain)
    return chain
  }
  const drop = (chain: Chain) => { taken.splice(taken.indexOf(chain), 1) }
  const setupClient = (client: Client) => {
    let chain = take()
    client.setRequests([{
      method: 'POST',
      path: '/v1/auth/token/refresh',
      headers: JSON_HEADERS,
      setupRequest: (request) => {
        // still in flight: the last request timed out and may have rotated on the server; resending its token
        // would only revoke the session
        if (chain?.inFlight) {
          drop(chain)
          chain = undefined
        }
        chain ??= take()
        if (chain) chain.inFlight = true
        return bodyOf({ refreshToken: chain?.refreshToken ?? NO_REFRESH_TOKEN })(request)
      },
      onResponse: (status, body) => {
        if (status !== 200) pools.recordProblem(status, body)
        if (chain === undefined) return
        chain.inFlight = false
        if (status === 200) {
          chain.refreshToken = (JSON.parse(body) as { refreshToken: string }).refreshToken
        } else {
          drop(chain)
          chain = undefined
        }
      }
    }])
  }
  return {
    options: { setupClient },
    // a refresh cut off by the end of the run may have rotated on the server: that chain is unusable
    finish: () => { pools.chains.push(...taken.filter((chain) => !chain.inFlight)) }
  }
}

/** Each connection holds the access token of a session of its own. */
function meLoad (pools: Pools): Load {
  let next = 0
  const logins = pools.freshLogins
  const setupClient = (client: Client) => {
    const login = logins[next++ % logins.length]
    client.setRequests([{
      method: 'GET',
      path: '/v1/me',
      headers: { authorization: `Bearer ${login?.accessToken ?? 'none'}` },
      onResponse: (status, body) => { if (status !== 200) pools.recordProblem(status, body) }
    }])
  }
  return { options: { setupClient } }
}

/**
 * Start then verify, by users who have an account: each connection logs its own user in again and again (a
 * second start for one address would replace the first's code).
 */
function flowLoad (pools: Pools): Load {
  let next = 0
  const setupClient = (client: Client) => {
    const email = pools.logins[next++ % pools.logins.length]?.email ?? newEmail()
    client.setRequests([
      startRequest(() => email, (status, body, context) => {
        context.challengeId = status === 202 ? challengeOf(body) : undefined
        if (status !== 202) pools.recordProblem(status, body)
      }),
      verifyRequest(pools, (context) => typeof context.challengeId === 'string' ? context.challengeId : NO_CHALLENGE, false)
    ])
  }
  return { options: { setupClient } }
}

/** Before a warm-up has measured it: an upper bound of the verify rate (about 900 req/s at most here). */
export const VERIFY_RATE_BOUND = 1500
/** challenges for this many seconds of the measured rate go in before a run, and the refill keeps 2 s ahead */
const VERIFY_POOL_SECONDS_AHEAD = 2

const floor = (name: string, request: Request): Scenario => ({ name, server: 'floor', load: () => ({ options: { requests: [request] } }) })

/** Floors that read sessions or users pick them from what the app has made by now. */
const sampledFloor = (name: string, request: Request): Scenario => ({
  ...floor(name, request),
  prepare: async ({ pools, app, floor, connections }) => {
    await pools.ensureLogins(app, connections)
    const sampled = await fetch(`${floor}/floor/sample`, { method: 'POST' })
    if (!sampled.ok) throw new Error(`the floor server could not sample sessions: ${sampled.status}`)
  }
})

/**
 * In run order: each floor next to the endpoint compared with it, so drift on a busy machine hits both alike.
 * Each floor makes its endpoint's round trips (src/auth/) and nothing else; the per-IP limiter is on, as in
 * production, so every endpoint and floor starts with its EVALSHA.
 */
export const SCENARIOS: Scenario[] = [
  {
    name: 'start',
    server: 'app',
    floor: 'floor-start',
    note: 'a new address: limiter EVALSHA, findOne of the user by email (a miss), EVALSHA start.lua, the enqueue; the delivery worker, a process of its own, is stopped during the warm-up and the measured run (as on hosts of its own: the floor has no process sending beside it either) and sends the codes to a fake SendGrid answering in 150 ms after them; the summary gives start once more with the worker sending on the same cores',
    // a new identifier each time: the sign-up path, and no two requests share a destination's keys
    load: (pools) => ({
      options: {
        requests: [startRequest(newDeliveredEmail, (status, body) => {
          if (status !== 202) pools.recordProblem(status, body)
        })]
      }
    })
  },
  floor('floor-start', floorRequest('/floor/start')),
  {
    name: 'verify',
    server: 'app',
    floor: 'floor-verify',
    note: 'sign-up at the first login: limiter EVALSHA, EVALSHA verify.lua, upsert of the user, insert of the session',
    // sized from the warm-up's rate with half again as margin, and refilled while the run goes
    rateBound: VERIFY_RATE_BOUND,
    prepare: ({ pools, app, seconds, rate }) => pools.ensureChallenges(app, Math.ceil(seconds * rate * 1.5)),
    refill: async ({ pools, app, rate }) => {
      const ahead = VERIFY_POOL_SECONDS_AHEAD * rate
      if (pools.challengesLeft < ahead) await pools.ensureChallenges(app, Math.ceil(2 * ahead))
    },
    load: (pools) => ({ options: { requests: [verifyRequest(pools, () => pools.takeChallenge())] } })
  },
  floor('floor-verify', floorRequest('/floor/verify')),
  {
    name: 'refresh',
    server: 'app',
    floor: 'floor-refresh',
    note: 'limiter EVALSHA, one findOneAndUpdate (the compare-and-swap on _id, hash and liveness), then findOne of its user by _id (the status, issue #30 point 7)',
    // a chain whose answer never came is dead: the warm-up's last refreshes kill one set, timeouts a few more
    prepare: ({ pools, app, connections }) => pools.ensureChains(app, Math.ceil(2.5 * connections)),
    load: refreshLoad
  },
  sampledFloor('floor-refresh', floorRequest('/floor/refresh')),
  {
    name: 'me',
    server: 'app',
    floor: 'floor-me',
    note: 'limiter EVALSHA, MGET of the revocation state beside findOne of the user by _id (read by authenticating, reused by the route); an EdDSA verify',
    prepare: ({ pools, app, connections }) => pools.ensureFreshLogins(app, connections),
    load: meLoad
  },
  sampledFloor('floor-me', { method: 'GET', path: '/floor/me' }),
  {
    name: 'flow',
    server: 'app',
    note: 'a returning user logs in: start (limiter, findOne, start.lua), then verify (limiter, verify.lua, findOneAndUpdate, insert); req/s counts both',
    prepare: ({ pools, app, connections }) => pools.ensureLogins(app, connections),
    load: flowLoad
  },
  floor('floor-redis', floorRequest('/floor/redis')),
  floor('floor-none', floorRequest('/floor/none'))
]
