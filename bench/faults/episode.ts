// One scenario under load: seed logins, start the load, revoke some sessions just before the fault, inject it,
// let the load run on, then wait for the codes and check what was lost or doubled.
import { setTimeout as sleep } from 'node:timers/promises'
import { randomInt } from 'node:crypto'
import type { FakeSendGrid } from '../../test/helpers/fake-sendgrid.ts'
import { TEST_CODE, newEmail } from '../pools.ts'
import { awaitDeliveries, checkLosses } from './checks.ts'
import { send } from './http.ts'
import { MixedLoad, type Acknowledged, type Login } from './load.ts'
import { rowOf, type Row } from './row.ts'
import type { FaultScenario, FaultContext } from './scenarios.ts'

export interface EpisodeSettings {
  rate: number
  preSeconds: number
  postSeconds: number
  storeTimeoutMs: number
  /** OTP_TTL_SECONDS: a challenge is checked only while its code is still meant to work */
  codeTtlSeconds: number
}

const PROVIDER_ANSWER = { status: 202, delayMs: 150 }
const SEED_LOGINS = 60
const REVOKED = 30
const REVOKE_SPREAD_MS = 2000
const SLEEPING = 150
/** challenges acknowledged this long before the fault and until the errors stop are all checked */
const AROUND_FAULT_MS = 5000
const SAMPLE_ELSEWHERE = 300

async function seedLogins (base: string, count: number): Promise<Login[]> {
  const logins: Login[] = []
  while (logins.length < count) {
    const started = await send(base, 'POST', '/v1/auth/otp', { body: { email: newEmail() }, timeoutMs: 10_000 })
    if (started.status !== 202) throw new Error(`seeding: POST /v1/auth/otp answered ${started.status} ${started.body}`)
    const challengeId = (JSON.parse(started.body) as { challengeId: string }).challengeId
    const verified = await send(base, 'POST', '/v1/auth/otp/verify', { body: { challengeId, code: TEST_CODE }, timeoutMs: 10_000 })
    if (verified.status !== 200) throw new Error(`seeding: POST /v1/auth/otp/verify answered ${verified.status} ${verified.body}`)
    const { accessToken, refreshToken } = JSON.parse(verified.body) as Login
    logins.push({ accessToken, refreshToken, madeAt: Date.now() })
  }
  return logins
}

/**
 * Logs sessions out one after the other over the `spreadMs` before the fault, the last ones as close to it as a
 * write can be (where an asynchronous replica may not have it yet); those whose 204 came before the fault count.
 */
async function revoke (
  load: MixedLoad, logins: Login[], spreadMs: number, until: () => number | null
): Promise<Login[]> {
  const revoked: Login[] = []
  await Promise.all(logins.map(async (login, index) => {
    await sleep(index * spreadMs / logins.length)
    const outcome = await send(load.pick(), 'POST', '/v1/auth/logout', { token: login.accessToken, body: { refreshToken: login.refreshToken }, timeoutMs: 10_000 })
    const faultAt = until()
    if (outcome.status === 204 && (faultAt === null || Date.now() < faultAt)) revoked.push(login)
  }))
  return revoked
}

/** Every challenge acknowledged around the fault, and a random sample of the rest, all still within their TTL. */
function challengesToCheck (
  acknowledged: Acknowledged[], faultAt: number, recoveredAt: number, ttlMs: number
): Acknowledged[] {
  const fresh = acknowledged.filter(({ at }) => Date.now() - at < ttlMs - 30_000)
  const around = fresh.filter(({ at }) => at >= faultAt - AROUND_FAULT_MS && at <= recoveredAt + AROUND_FAULT_MS)
  const elsewhere = fresh.filter((item) => !around.includes(item))
  for (let i = elsewhere.length - 1; i > 0; i--) {
    const j = randomInt(i + 1)
    ;[elsewhere[i], elsewhere[j]] = [elsewhere[j]!, elsewhere[i]!]
  }
  return [...around, ...elsewhere.slice(0, SAMPLE_ELSEWHERE)]
}

export async function runEpisode (
  scenario: FaultScenario, waitReplicas: number | null, context: FaultContext, sendgrid: FakeSendGrid,
  settings: EpisodeSettings
): Promise<Row> {
  sendgrid.reset()
  sendgrid.answerAlways(PROVIDER_ANSWER)
  const { stack } = context
  const seed = await seedLogins(stack.urls[0]!, SEED_LOGINS)
  const load = new MixedLoad([...stack.urls], seed)
  context.load = load
  const postSeconds = scenario.postSeconds ?? settings.postSeconds
  const began = Date.now()
  const running = load.run(settings.rate, settings.preSeconds + postSeconds)

  await sleep(settings.preSeconds * 1000 - REVOKE_SPREAD_MS)
  let faultAt: number | null = null
  const revoking = revoke(load, load.takeSpare(REVOKED), REVOKE_SPREAD_MS, () => faultAt)
  await sleep(began + settings.preSeconds * 1000 - Date.now())
  faultAt = Date.now()
  const sleeping = load.takeSpare(SLEEPING)
  console.log(`  ${scenario.name}: fault at +${settings.preSeconds} s`)
  const notes = await scenario.inject(context)
  for (const note of notes) console.log(`  ${note}`)
  const revoked = await revoking
  await running
  const loadEndedAt = Date.now()

  const waitedMs = await awaitDeliveries(sendgrid, load.acknowledged, scenario.drainMs ?? 20_000)
  notes.push(`codes delivered ${Math.round(waitedMs / 100) / 10} s after the load stopped`)
  const provisional = rowOf({
    scenario: scenario.name,
    waitReplicas,
    records: load.records,
    faultAt,
    loadEndedAt,
    deadlineMs: settings.storeTimeoutMs,
    losses: emptyLosses(),
    notes
  })
  const recoveredAt = provisional.recoverySeconds === null ? loadEndedAt : faultAt + provisional.recoverySeconds * 1000
  const losses = await checkLosses({
    // the first instance first: the one no scenario kills
    bases: context.stack.urls,
    sendgrid,
    challenges: challengesToCheck(load.acknowledged, faultAt, recoveredAt, settings.codeTtlSeconds * 1000),
    acknowledged: load.acknowledged,
    sleeping,
    revoked
  })
  await scenario.restore?.(context)
  return { ...provisional, losses }
}

const emptyLosses = () => ({
  challengesChecked: 0,
  challengesLost: 0,
  sleepingChecked: 0,
  sleepingRefused: 0,
  revokedChecked: 0,
  revokedRevived: 0,
  neverDelivered: 0,
  deliveredTwice: 0,
  unchecked: 0,
  refusals: {}
})
