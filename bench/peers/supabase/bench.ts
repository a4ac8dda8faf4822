// Supabase Auth under the load `npm run bench` puts on otp-gate: 100 connections, a 10 s warm-up then a 10 s
// measured run per scenario, PostgreSQL vacuumed in between as the bench vacuums its store.
// send-email, send-phone: POST /otp to existing, confirmed users, round robin. A new address is a sign-up there,
// which bcrypt-hashes a temporary password (90–150 ms a request here), so this is its fastest send.
// refresh: each connection rotates a chain of its own (POST /token?grant_type=refresh_token).
// Prints req/s, p50/p99, errors, non-2xx and gotrue's CPU µs per request (/proc). Needs up.sh's state.
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import autocannon, { type Client, type Options } from 'autocannon'

const stateDirectory = process.env.PEER_STATE ?? new URL('../../../.test-services/supabase/', import.meta.url).pathname
const env = Object.fromEntries(readFileSync(`${stateDirectory}/env`, 'utf8').trim().split('\n').map((line) => line.split('=') as [string, string]))
const pid = readFileSync(`${stateDirectory}/gotrue.pid`, 'utf8').trim()
const url = env.API_URL!
const connections = 100
const seconds = Number(process.env.PEER_DURATION ?? 10)
const warmup = Number(process.env.PEER_WARMUP ?? 10)
const only = process.env.PEER_ONLY?.split(',') ?? ['send-email', 'send-phone', 'refresh']
const json = { 'content-type': 'application/json' }
const SEEDED = 20_000

const psql = (sql: string) => execFileSync('psql', ['-q', '-h', '127.0.0.1', '-p', env.PG_PORT!, '-U', 'postgres', '-c', sql])
/** gotrue's user and system CPU, in ms (clock ticks of 10 ms) */
const cpuMs = () => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

// enough users that none meets the 1 s send frequency up.sh sets: each gets a code every few seconds at most
psql(`INSERT INTO auth.users (instance_id, id, aud, role, email, email_confirmed_at, phone, phone_confirmed_at,
    confirmation_token, recovery_token, email_change_token_new, email_change, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
  SELECT '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', 'u' || n || '@example.org', now(),
    '4477' || lpad(n::text, 9, '0'), now(), '', '', '', '', '{"provider":"email","providers":["email","phone"]}', '{}', now(), now()
  FROM generate_series(1, ${SEEDED}) AS n ON CONFLICT DO NOTHING`)
let sent = 0
const nextUser = () => (sent++ % SEEDED) + 1
let signedUp = 0
const stamp = Date.now().toString(36)

/** Sessions to rotate: sign-ups with a password (email autoconfirmed), 50 at a time. */
async function refreshTokens (count: number): Promise<string[]> {
  const tokens: string[] = []
  while (tokens.length < count) {
    tokens.push(...await Promise.all(Array.from({ length: Math.min(50, count - tokens.length) }, async () => {
      const response = await fetch(`${url}/signup`, {
        method: 'POST', headers: json, body: JSON.stringify({ email: `r${stamp}${++signedUp}@example.org`, password: 'a-long-bench-password-1' })
      })
      if (response.status !== 200) throw new Error(`signup: ${response.status} ${await response.text()}`)
      return ((await response.json()) as { refresh_token: string }).refresh_token
    })))
  }
  return tokens
}

function load (name: string, tokens: string[]): Partial<Options> {
  if (name !== 'refresh') {
    const body = () => JSON.stringify(name === 'send-email'
      ? { email: `u${nextUser()}@example.org` }
      : { phone: `+4477${String(nextUser()).padStart(9, '0')}` })
    return { requests: [{ method: 'POST', path: '/otp', headers: json, setupRequest: (request) => ({ ...request, body: body() }) }] }
  }
  let next = 0
  return {
    setupClient: (client: Client) => {
      const chain = { token: tokens[next++ % tokens.length]! }
      client.setRequests([{
        method: 'POST',
        path: '/token?grant_type=refresh_token',
        headers: json,
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ refresh_token: chain.token }) }),
        onResponse: (status, body) => {
          if (status === 200) chain.token = (JSON.parse(body) as { refresh_token: string }).refresh_token
        }
      }])
    }
  }
}

for (const name of only) {
  const tokens = name === 'refresh' ? await refreshTokens(connections * 2) : []
  await autocannon({ url, connections, duration: warmup, timeout: 10, ...load(name, tokens.slice(0, connections)) })
  psql('VACUUM ANALYZE')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const before = cpuMs()
  const measured = load(name, tokens.slice(connections))
  const result = await autocannon({ url, connections, duration: seconds, timeout: 10, ...measured })
  const cpu = Math.round((cpuMs() - before) * 1000 / result.requests.total)
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]))
  console.log(`supabase ${name.padEnd(11)} ${Math.round(result.requests.average)} req/s  p50 ${result.latency.p50} ms  ` +
    `p99 ${result.latency.p99} ms  errors ${result.errors}  non-2xx ${result.non2xx}  gotrue CPU ${cpu} µs/req  ${JSON.stringify(statuses)}`)
}
