import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { codeFromOutbox, login, newEmail, outboxOf } from '../helpers/login.ts'
import { manualClock } from '../helpers/totp.ts'

// Security round 3, points 3 and 4 together: an attacker at the highest rate the product allows, from a new IP
// address for every request, against one account for a week. The owner signs in every three hours through the
// device that signed in before (or the link, when a code request answers one). Limits are the product's defaults.
// The per-IP limiter counts on the wall clock, which the simulation compresses a week into seconds of: the owner's
// requests come from an address of their own per try too (a phone between networks); per-IP limits never bind an
// attacker who rotates addresses anyway, so what is tested is every per-destination limit.
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const LINK_PAGE = 'https://app.example.com/sign-in'

const retryAfterMs = (response: LightMyRequestResponse) => Number(response.headers['retry-after'] ?? 1) * 1000
const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0')

/** The largest number of `times` (epoch ms, ascending) within any window of `windowMs`. */
function densest (times: number[], windowMs: number): number {
  let most = 0
  for (let first = 0, last = 0; last < times.length; last++) {
    while (times[last]! - times[first]! >= windowMs) first++
    most = Math.max(most, last - first + 1)
  }
  return most
}

t.test('a week of anonymous guessing never keeps the owner out more than 15 minutes, nor passes 100 wrong codes a day', async (t) => {
  const clock = manualClock('2030-01-01T00:00:00.000Z')
  // in memory: every limit runs on the test's clock, so the week passes in seconds
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, outbox: true, now: clock.now, env: { MAGIC_LINK_URL: LINK_PAGE } })
  const email = newEmail('besieged')
  let deviceToken = (await login(app, { email }) as { deviceToken?: string }).deviceToken

  let addresses = 0
  const fresh = () => {
    addresses++
    return `10.${(addresses >> 16) & 255}.${(addresses >> 8) & 255}.${addresses & 255}`
  }
  const post = (url: string, payload: Record<string, unknown>, remoteAddress = fresh()) =>
    app.inject({ method: 'POST', url, payload, remoteAddress })

  // the attacker: a challenge of its own (it reads its code from the outbox, to be sure to send a wrong one), then
  // a wrong code whenever the API lets it; answers how long to wait before its next request
  const counted: number[] = []
  let quotaRefusals = 0
  let challenge: { id: string, code: string | null, expiresAt: number, left: number } | null = null
  const attack = async (): Promise<number> => {
    if (challenge === null || challenge.expiresAt <= clock.ms() || challenge.left === 0) {
      const start = await post('/v1/auth/otp', { email })
      if (start.statusCode === 429 && start.headers['ratelimit-limit'] === '20') quotaRefusals++
      if (start.statusCode !== 202) return retryAfterMs(start)
      const body = start.json()
      challenge = {
        id: body.challengeId,
        code: body.method === 'code' ? await codeFromOutbox(app, email) : null,
        expiresAt: Date.parse(body.expiresAt),
        left: 5
      }
    }
    const answer = await post('/v1/auth/otp/verify', { challengeId: challenge.id, code: otherCode(challenge.code ?? '000000') })
    const { code } = answer.json()
    if (code === 'invalid_code' || code === 'too_many_attempts') {
      counted.push(clock.ms())
      challenge.left = code === 'invalid_code' ? challenge.left - 1 : 0
      return 0
    }
    if (code === 'challenge_expired') challenge = null
    return code === 'challenge_expired' ? 0 : retryAfterMs(answer)
  }

  // the owner: one try at signing in; answers whether it worked
  let tries = 0
  const ownerTries = async (): Promise<boolean> => {
    tries++
    const ownerAddress = `198.51.${(tries >> 8) & 255}.${tries & 255}`
    const start = await post('/v1/auth/otp', { email, deviceToken }, ownerAddress)
    if (start.statusCode !== 202) return false
    let signedIn: LightMyRequestResponse
    if (start.json().method === 'link') {
      const { messages } = (await outboxOf(app, email)).json() as { messages: Array<{ text: string }> }
      const token = /#token=([\w.-]+)/.exec(messages[0]?.text ?? '')?.[1] ?? ''
      signedIn = await post('/v1/auth/link/verify', { token }, ownerAddress)
    } else {
      signedIn = await post('/v1/auth/otp/verify', { challengeId: start.json().challengeId, code: await codeFromOutbox(app, email) }, ownerAddress)
    }
    if (signedIn.statusCode !== 200) return false
    deviceToken = signedIn.json().deviceToken ?? deviceToken
    return true
  }

  const end = clock.ms() + 7 * DAY
  let attackerAt = clock.ms()
  let ownerAt = clock.ms() + HOUR
  let outSince: number | null = null
  let longestLockout = 0
  let signIns = 0
  while (clock.ms() < end) {
    const next = Math.min(attackerAt, ownerAt)
    if (next > clock.ms()) clock.advance(next - clock.ms())
    if (attackerAt <= clock.ms()) attackerAt = clock.ms() + Math.max(await attack(), 0)
    if (ownerAt <= clock.ms()) {
      if (await ownerTries()) {
        signIns++
        if (outSince !== null) longestLockout = Math.max(longestLockout, clock.ms() - outSince)
        outSince = null
        ownerAt = clock.ms() + 3 * HOUR
      } else {
        // out: the owner tries again every minute, and the time until a try works is the lockout
        outSince ??= clock.ms()
        longestLockout = Math.max(longestLockout, clock.ms() - outSince)
        ownerAt = clock.ms() + MINUTE
      }
    }
  }
  if (outSince !== null) longestLockout = Math.max(longestLockout, clock.ms() - outSince)

  const mostPerDay = densest(counted, DAY)
  t.comment(`${counted.length} wrong codes counted in the week, at most ${mostPerDay} within any 24 hours; ${signIns} owner sign-ins, longest lockout ${longestLockout / MINUTE} min; ${addresses} attacker addresses; the anonymous daily quota refused the attacker ${quotaRefusals} times`)
  t.ok(signIns >= 7 * 8 - 1, `the owner signed in every three hours (${signIns} times)`)
  t.ok(longestLockout <= 15 * MINUTE, `the longest the owner was kept out: ${longestLockout / MINUTE} min, at most 15`)
  t.ok(mostPerDay <= 100, `wrong codes counted against the address within any 24 hours: ${mostPerDay}, at most 100`)
  t.ok(counted.length > 0, 'the attacker did guess')
  t.ok(quotaRefusals > 0, 'and spent the address\'s anonymous daily quota, which refuses a device-less owner')
})
