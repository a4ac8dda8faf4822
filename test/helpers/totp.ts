import type { FastifyInstance } from 'fastify'
import { TOTP, URI } from 'otpauth'
import { bearer, login, newEmail, outboxOf } from './login.ts'

/** Logs in to one address several times within seconds: no resend cooldown. */
export const REPEAT_LOGIN_ENV = { OTP_RESEND_COOLDOWN_SECONDS: '0' }

/** A clock tests move by hand, handed to buildTestApp as `now`. */
export function manualClock (start = '2030-01-01T00:00:10.000Z') {
  let at = Date.parse(start)
  return {
    now: () => new Date(at),
    /** moves the clock by whole 30 s TOTP steps */
    steps (count: number) { at += count * 30_000 },
    advance (ms: number) { at += ms },
    ms: () => at
  }
}

/** The code the authenticator app would show `offsetSteps` steps away from `at` (epoch ms). */
export function totpCode (otpauthUri: string, at: number, offsetSteps = 0): string {
  const totp = URI.parse(otpauthUri)
  if (!(totp instanceof TOTP)) throw new Error('not a TOTP URI')
  return totp.generate({ timestamp: at + offsetSteps * totp.period * 1000 })
}

export const secretOf = (otpauthUri: string) => new URL(otpauthUri).searchParams.get('secret') ?? ''

/** The claims of an access token, unverified: tests read amr and sub. */
export const claimsOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as { sub: string, sid: string, amr: string[] }

/** A signed-in user who enrolled and confirmed an authenticator app at the clock's time. */
export async function enrolledUser (app: FastifyInstance, clock: ReturnType<typeof manualClock>, email = newEmail('totp')) {
  const session = await login(app, { email })
  const headers = bearer(session.accessToken)
  const enrolment = await app.inject({ method: 'POST', url: '/v1/me/totp', headers })
  if (enrolment.statusCode !== 200) throw new Error(`enrolment answered ${enrolment.statusCode}: ${enrolment.body}`)
  const { otpauthUri } = enrolment.json() as { otpauthUri: string }
  const confirmed = await app.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers, payload: { code: totpCode(otpauthUri, clock.ms()) } })
  if (confirmed.statusCode !== 200) throw new Error(`confirmation answered ${confirmed.statusCode}: ${confirmed.body}`)
  // the confirmation used this step: later codes come from later steps
  clock.steps(1)
  return { email, session, headers, otpauthUri, recoveryCodes: confirmed.json().recoveryCodes as string[] }
}

/** An email code login (needs REPEAT_LOGIN_ENV to repeat): for a user with an authenticator app, the MFA challenge. */
export async function firstFactor (app: FastifyInstance, email: string) {
  const started = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email } })
  if (started.statusCode !== 202) throw new Error(`start answered ${started.statusCode}: ${started.body}`)
  const messages = await outboxOf(app, email)
  const code = (messages.json().messages as Array<{ code: string }>).find((message) => message.code !== '')?.code
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })
  return verified
}
