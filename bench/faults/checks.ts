// What a fault lost or doubled, checked once the load has stopped: codes never delivered or delivered twice (as
// the fake SendGrid received them), acknowledged challenges whose right code is refused, refresh tokens that
// stopped working unused, revoked sessions that work again.
import { setTimeout as sleep } from 'node:timers/promises'
import type { FakeSendGrid } from '../../test/helpers/fake-sendgrid.ts'
import { problemOf, send, type Outcome } from './http.ts'
import type { Acknowledged, Login } from './load.ts'

export interface Losses {
  /** acknowledged challenges whose right code was tried, and those refused as unknown or expired (or wrong) */
  challengesChecked: number
  challengesLost: number
  sleepingChecked: number
  sleepingRefused: number
  revokedChecked: number
  revokedRevived: number
  neverDelivered: number
  deliveredTwice: number
  /** what the refusals said, e.g. `410 challenge_expired: 3` */
  refusals: Record<string, number>
}

const TIMEOUT_MS = 10_000
const CONCURRENCY = 20

interface SendGridBody {
  personalizations?: Array<{ to?: Array<{ email?: string }> }>
  content?: Array<{ value?: string }>
}

/** email → the codes the fake SendGrid accepted (2xx) for it, in order */
export function deliveries (sendgrid: FakeSendGrid): Map<string, string[]> {
  const byEmail = new Map<string, string[]>()
  for (const request of sendgrid.accepted()) {
    const body = request.body as SendGridBody | null
    const email = body?.personalizations?.[0]?.to?.[0]?.email
    const code = /\b(\d{6})\b/.exec(body?.content?.[0]?.value ?? '')?.[1]
    if (email === undefined || code === undefined) continue
    byEmail.set(email, [...(byEmail.get(email) ?? []), code])
  }
  return byEmail
}

/** Resolves once every acknowledged address got a code, or at the deadline. */
export async function awaitDeliveries (
  sendgrid: FakeSendGrid, acknowledged: Acknowledged[], deadlineMs: number
): Promise<number> {
  const began = Date.now()
  while (Date.now() - began < deadlineMs) {
    const delivered = deliveries(sendgrid)
    if (acknowledged.every(({ email }) => delivered.has(email))) break
    await sleep(250)
  }
  return Date.now() - began
}

/** A request repeated while it is answered 503 or not at all: the check is about the data, not availability. */
async function patiently (request: () => Promise<Outcome>): Promise<Outcome> {
  let outcome = await request()
  for (let attempt = 1; attempt < 6 && (outcome.status === 503 || outcome.failure !== null); attempt++) {
    await sleep(500 * attempt)
    outcome = await request()
  }
  return outcome
}

async function eachOf<T> (items: T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!)
  }))
}

export interface CheckInput {
  base: string
  sendgrid: FakeSendGrid
  /** the challenges to verify (all those acknowledged around the fault, a sample of the rest) */
  challenges: Acknowledged[]
  /** every acknowledged challenge, for the delivery counts */
  acknowledged: Acknowledged[]
  sleeping: Login[]
  revoked: Login[]
}

export async function checkLosses (input: CheckInput): Promise<Losses> {
  const { base } = input
  const delivered = deliveries(input.sendgrid)
  const refusals: Record<string, number> = {}
  const refused = (outcome: Outcome, what: string) => {
    const key = `${what}: ${problemOf(outcome)}`
    refusals[key] = (refusals[key] ?? 0) + 1
  }
  let challengesChecked = 0
  let challengesLost = 0
  await eachOf(input.challenges, async ({ challengeId, email }) => {
    const code = delivered.get(email)?.at(-1)
    if (code === undefined) return
    challengesChecked++
    const outcome = await patiently(() => send(base, 'POST', '/v1/auth/otp/verify', { body: { challengeId, code }, timeoutMs: TIMEOUT_MS }))
    if (outcome.status !== 200) { challengesLost++; refused(outcome, 'verify') }
  })
  let sleepingRefused = 0
  await eachOf(input.sleeping, async ({ refreshToken }) => {
    const outcome = await patiently(() => send(base, 'POST', '/v1/auth/token/refresh', { body: { refreshToken }, timeoutMs: TIMEOUT_MS }))
    if (outcome.status !== 200) { sleepingRefused++; refused(outcome, 'sleeping refresh') }
  })
  let revokedRevived = 0
  await eachOf(input.revoked, async ({ accessToken, refreshToken }) => {
    const me = await patiently(() => send(base, 'GET', '/v1/me', { token: accessToken, timeoutMs: TIMEOUT_MS }))
    const refresh = await patiently(() => send(base, 'POST', '/v1/auth/token/refresh', { body: { refreshToken }, timeoutMs: TIMEOUT_MS }))
    if (me.status === 200 || refresh.status === 200) revokedRevived++
  })
  const counts = input.acknowledged.map(({ email }) => delivered.get(email)?.length ?? 0)
  return {
    challengesChecked,
    challengesLost,
    sleepingChecked: input.sleeping.length,
    sleepingRefused,
    revokedChecked: input.revoked.length,
    revokedRevived,
    neverDelivered: counts.filter((count) => count === 0).length,
    deliveredTwice: counts.filter((count) => count > 1).length,
    refusals
  }
}
