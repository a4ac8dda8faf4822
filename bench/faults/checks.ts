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
  /** checks left undone: every instance answered 503 (or nothing) until the checks' deadline */
  unchecked: number
  /** what the refusals said, e.g. `410 challenge_expired: 3` */
  refusals: Record<string, number>
}

const TIMEOUT_MS = 10_000
const CONCURRENCY = 20
/** the checks of one scenario end by then, whatever is left unchecked: the run stays bounded */
const CHECKS_DEADLINE_MS = 90_000

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

const unanswered = (outcome: Outcome) => outcome.status === 503 || outcome.failure !== null

/**
 * A request repeated on the next instance while it is answered 503 or not at all (the check is about the data,
 * not availability), a few times and never past the checks' deadline; still unanswered, it is left unchecked.
 */
async function patiently (
  bases: string[], deadline: number, request: (base: string) => Promise<Outcome>
): Promise<Outcome | null> {
  for (let attempt = 0; attempt < 6 && Date.now() < deadline; attempt++) {
    const outcome = await request(bases[attempt % bases.length]!)
    if (!unanswered(outcome)) return outcome
    await sleep(250 * attempt)
  }
  return null
}

async function eachOf<T> (items: T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!)
  }))
}

export interface CheckInput {
  /** the API instances, the first tried first */
  bases: string[]
  sendgrid: FakeSendGrid
  /** the challenges to verify (all those acknowledged around the fault, a sample of the rest) */
  challenges: Acknowledged[]
  /** every acknowledged challenge, for the delivery counts */
  acknowledged: Acknowledged[]
  sleeping: Login[]
  revoked: Login[]
}

export async function checkLosses (input: CheckInput): Promise<Losses> {
  const { bases } = input
  const deadline = Date.now() + CHECKS_DEADLINE_MS
  const delivered = deliveries(input.sendgrid)
  const refusals: Record<string, number> = {}
  let unchecked = 0
  /** true when refused; null when no instance would answer */
  const refused = (outcome: Outcome | null, what: string, accepted: number): boolean | null => {
    if (outcome === null) { unchecked++; return null }
    if (outcome.status === accepted) return false
    const key = `${what}: ${problemOf(outcome)}`
    refusals[key] = (refusals[key] ?? 0) + 1
    return true
  }
  let challengesChecked = 0
  let challengesLost = 0
  await eachOf(input.challenges, async ({ challengeId, email }) => {
    const code = delivered.get(email)?.at(-1)
    if (code === undefined) return
    const outcome = await patiently(bases, deadline, (base) => send(base, 'POST', '/v1/auth/otp/verify', { body: { challengeId, code }, timeoutMs: TIMEOUT_MS }))
    const lost = refused(outcome, 'verify', 200)
    if (lost !== null) challengesChecked++
    if (lost === true) challengesLost++
  })
  let sleepingChecked = 0
  let sleepingRefused = 0
  await eachOf(input.sleeping, async ({ refreshToken }) => {
    const outcome = await patiently(bases, deadline, (base) => send(base, 'POST', '/v1/auth/token/refresh', { body: { refreshToken }, timeoutMs: TIMEOUT_MS }))
    const lost = refused(outcome, 'sleeping refresh', 200)
    if (lost !== null) sleepingChecked++
    if (lost === true) sleepingRefused++
  })
  let revokedChecked = 0
  let revokedRevived = 0
  await eachOf(input.revoked, async ({ accessToken, refreshToken }) => {
    const me = await patiently(bases, deadline, (base) => send(base, 'GET', '/v1/me', { token: accessToken, timeoutMs: TIMEOUT_MS }))
    const refresh = await patiently(bases, deadline, (base) => send(base, 'POST', '/v1/auth/token/refresh', { body: { refreshToken }, timeoutMs: TIMEOUT_MS }))
    if (me === null || refresh === null) { unchecked++; return }
    revokedChecked++
    if (me.status === 200 || refresh.status === 200) revokedRevived++
  })
  const counts = input.acknowledged.map(({ email }) => delivered.get(email)?.length ?? 0)
  return {
    challengesChecked,
    challengesLost,
    sleepingChecked,
    sleepingRefused,
    revokedChecked,
    revokedRevived,
    neverDelivered: counts.filter((count) => count === 0).length,
    deliveredTwice: counts.filter((count) => count > 1).length,
    unchecked,
    refusals
  }
}
