import { randomBytes } from 'node:crypto'
import type { Client, Options, Request } from 'autocannon'
import { JSON_HEADERS, NO_CHALLENGE, NO_REFRESH_TOKEN, TEST_CODE, challengeOf, loginOf, newEmail, type Chain, type Pools } from './pools.ts'

export interface PrepareContext { pools: Pools, app: string, floor: string, connections: number, seconds: number }

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
const verifyRequest = (pools: Pools, challenge: (context: Record<string, unknown>) => string, keep = true): Request => ({
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
  const setupClient = (client: Client) => {
    const login = pools.logins[next++ % pools.logins.length]
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

/** Generous upper bounds of the rates, so a scenario run alone has enough to consume. */
const VERIFY_RATE_BOUND = 500

const floor = (name: string, request: Request): Scenario => ({ name, server: 'floor', load: () => ({ options: { requests: [request] } }) })

/** In run order: each floor next to the endpoints compared with it, so drift on a busy machine hits both alike. */
export const SCENARIOS: Scenario[] = [
  {
    name: 'start',
    server: 'app',
    floor: 'floor-mongo-read-redis',
    note: 'one findOne (identity) + one EVALSHA (start.lua)',
    // a new identifier each time: the sign-up path, and no two requests share a destination's keys
    load: (pools) => ({
      options: {
        requests: [startRequest(newEmail, (status, body) => {
          if (status === 202) pools.challenges.push(challengeOf(body))
          else pools.recordProblem(status, body)
        })]
      }
    })
  },
  floor('floor-mongo-read-redis', floorRequest('/floor/mongo-read-redis')),
  {
    name: 'verify',
    server: 'app',
    floor: 'floor-redis-mongo',
    note: 'sign-up at the first login: EVALSHA + 2 reads by _id (identity, user) + 3 inserts (user created verified and logged in, identity, session)',
    prepare: ({ pools, app, seconds }) => pools.ensureChallenges(app, seconds * VERIFY_RATE_BOUND),
    load: (pools) => ({ options: { requests: [verifyRequest(pools, () => pools.takeChallenge())] } })
  },
  floor('floor-redis-mongo', floorRequest('/floor/redis-mongo')),
  {
    name: 'refresh',
    server: 'app',
    floor: 'floor-redis-mongo',
    note: 'the closest floor with a Mongo write; refresh: the session by _id, the rotation lock (insert, delete) and the swap (on FerretDB a second read by _id and a write by _id alone)',
    // a chain whose answer never came is dead: the warm-up's last refreshes kill one set, timeouts a few more
    prepare: ({ pools, app, connections }) => pools.ensureChains(app, Math.ceil(2.5 * connections)),
    load: refreshLoad
  },
  {
    name: 'me',
    server: 'app',
    floor: 'floor-mongo-read',
    note: 'two findOne by _id (session live, user) + an EdDSA verify',
    prepare: ({ pools, app, connections }) => pools.ensureLogins(app, connections),
    load: meLoad
  },
  {
    ...floor('floor-mongo-read', { method: 'GET', path: '/floor/mongo-read' }),
    prepare: async ({ pools, app, floor, connections }) => {
      await pools.ensureLogins(app, connections)
      const sampled = await fetch(`${floor}/floor/sample`, { method: 'POST' })
      if (!sampled.ok) throw new Error(`the floor server could not sample sessions: ${sampled.status}`)
    }
  },
  {
    name: 'flow',
    server: 'app',
    floor: 'floor-redis-mongo',
    note: 'a returning user logs in: start (2 reads + EVALSHA), then verify (EVALSHA + 2 reads + 1 update + 1 insert), all by _id; req/s counts both',
    prepare: ({ pools, app, connections }) => pools.ensureLogins(app, connections),
    load: flowLoad
  },
  floor('floor-redis', floorRequest('/floor/redis')),
  floor('floor-none', floorRequest('/floor/none'))
]
