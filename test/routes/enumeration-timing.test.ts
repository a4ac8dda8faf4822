import t from 'tap'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, requireEnv, testConfig } from '../helpers/build-app.ts'
import { uniqueKeyPrefix } from '../helpers/redis.ts'
import { sendGridEnv, startFakeSendGrid } from '../helpers/fake-sendgrid.ts'
import { deliveriesSettled, newEmail } from '../helpers/login.ts'

// Whether an identifier has an account must not show in the answer to a code request: not in its status, body
// or headers, nor in its time. A benchmark-style measurement: medians of many interleaved requests, with a
// provider that takes 150 ms, so a request that waited for it would stand out by that much.
const SAMPLES = 200
const PROVIDER_MS = 150
const MAX_DIFFERENCE_MS = 2

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length / 2
  return sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

type Kind = 'known' | 'unknown' | 'disabled'

async function measure (app: FastifyInstance, path: '/v1/auth/otp' | '/v1/auth/otp/resend', identifiers: Record<Kind, string[]>) {
  const times: Record<Kind, number[]> = { known: [], unknown: [], disabled: [] }
  const shapes = new Map<Kind, Set<string>>()
  for (let i = 0; i < SAMPLES; i++) {
    // interleaved, and in a rotating order, so whatever else the machine does (the delivery worker picking up the
    // job the previous request queued, a GC) weighs on every kind alike rather than on whichever comes second
    const kinds = ['known', 'unknown', 'disabled'] as const
    for (const kind of [...kinds.slice(i % 3), ...kinds.slice(0, i % 3)]) {
      const email = identifiers[kind][i]!
      const payload = path === '/v1/auth/otp' ? { email } : { challengeId: email }
      const began = performance.now()
      const response = await app.inject({ method: 'POST', url: path, payload })
      times[kind].push(performance.now() - began)
      const headers = Object.keys(response.headers).filter((name) => !['x-request-id', 'date', 'content-length'].includes(name)).sort()
      const shape = `${response.statusCode} ${Object.keys(response.json()).sort().join(',')} ${headers.join(',')}`
      shapes.set(kind, (shapes.get(kind) ?? new Set()).add(shape))
    }
  }
  return {
    medians: { known: median(times.known), unknown: median(times.unknown), disabled: median(times.disabled) },
    shapes
  }
}

async function accounts (app: FastifyInstance) {
  const make = async (label: string, status: 'active' | 'disabled') => {
    const emails = Array.from({ length: SAMPLES }, () => newEmail(label))
    for (const email of emails) {
      const { user } = await app.users.findOrCreateByIdentifier('email', email)
      if (status === 'disabled') await app.users.setStatus(user.id, 'disabled')
    }
    return emails
  }
  return { known: await make('known', 'active'), unknown: Array.from({ length: SAMPLES }, () => newEmail('unknown')), disabled: await make('disabled', 'disabled') }
}

for (const signup of ['closed', 'open'] as const) {
  t.test(`SIGNUP=${signup}: start and resend answer known, unknown and disabled identifiers alike, in time too`, async (t) => {
    const sendgrid = await startFakeSendGrid()
    t.teardown(() => sendgrid.close())
    sendgrid.answerAlways({ status: 202, delayMs: PROVIDER_MS })
    // Redis and its queue as in production; users in process. On MongoDB a start reads a user by identifier with
    // one index lookup, known or not (test/routes/round-trips.test.ts counts it); the test server, FerretDB on
    // SQLite, scans the collection instead, stopping early only on a hit, so with it the stand-in would differ, not
    // the API.
    const app = await buildTestApp(t, { stores: 'memory', redisKeyPrefix: uniqueKeyPrefix('timing') }, testConfig(t, {
      stores: 'memory',
      limiter: false,
      loadShedding: false,
      env: {
        REDIS_URL: requireEnv('REDIS_URL'),
        SIGNUP: signup,
        ...sendGridEnv(sendgrid),
        OTP_RESEND_COOLDOWN_SECONDS: '0'
      }
    }))
    const identifiers = await accounts(app)

    const started = await measure(app, '/v1/auth/otp', identifiers)
    for (const [kind, shapes] of started.shapes) t.same([...shapes], [...started.shapes.get('known')!], `start, ${kind}: the same status, body members and headers`)
    const { known, unknown, disabled } = started.medians
    t.ok(Math.abs(known - unknown) < MAX_DIFFERENCE_MS, `start: median ${known.toFixed(2)} ms known, ${unknown.toFixed(2)} ms unknown (ratio ${(known / unknown).toFixed(2)})`)
    t.ok(Math.abs(known - disabled) < MAX_DIFFERENCE_MS, `start: median ${known.toFixed(2)} ms known, ${disabled.toFixed(2)} ms disabled (ratio ${(known / disabled).toFixed(2)})`)

    // resend the challenges just started, by kind
    await deliveriesSettled(app, 60_000)
    const challenges = await startAll(app, identifiers)
    const resent = await measure(app, '/v1/auth/otp/resend', challenges)
    for (const [kind, shapes] of resent.shapes) t.same([...shapes], [...resent.shapes.get('known')!], `resend, ${kind}: the same status, body members and headers`)
    const medians = resent.medians
    t.ok(Math.abs(medians.known - medians.unknown) < MAX_DIFFERENCE_MS, `resend: median ${medians.known.toFixed(2)} ms known, ${medians.unknown.toFixed(2)} ms unknown`)
    t.ok(Math.abs(medians.known - medians.disabled) < MAX_DIFFERENCE_MS, `resend: median ${medians.known.toFixed(2)} ms known, ${medians.disabled.toFixed(2)} ms disabled`)

    await deliveriesSettled(app, 60_000)
    const sentTo = new Set(sendgrid.accepted().map((request) => request.body.personalizations[0].to[0].email as string))
    t.ok(identifiers.known.every((email) => sentTo.has(email)), 'every known identifier got its codes')
    t.notOk(identifiers.disabled.some((email) => sentTo.has(email)), 'no disabled one did')
    t.equal(identifiers.unknown.some((email) => sentTo.has(email)), signup === 'open', signup === 'open' ? 'unknown ones sign up' : 'no unknown one did')
  })
}

/** A challenge per identifier (the ids a resend takes), started untimed. */
async function startAll (app: FastifyInstance, identifiers: Record<Kind, string[]>): Promise<Record<Kind, string[]>> {
  const ids = async (emails: string[]) => {
    const out: string[] = []
    for (const email of emails) out.push((await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email } })).json().challengeId)
    return out
  }
  return {
    known: await ids(identifiers.known),
    unknown: await ids(identifiers.unknown),
    disabled: await ids(identifiers.disabled)
  }
}
