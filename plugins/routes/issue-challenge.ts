import type { FastifyInstance } from 'fastify'
import type { IssuedChallenge, StartChallengeInput } from '../../src/otp/otp-engine.ts'
import { maskDestination } from '../../src/delivery/mask.ts'

/**
 * `otp.startChallenge`, behind the SMS guard for an SMS: a refused number or a spent budget stores and sends
 * nothing. The budget unit is given back when the engine refuses (cooldown, quota, lockout), so only issued
 * codes count. Decoys count like real codes: the guard must not tell accounts apart.
 */
export async function startChallenge (app: FastifyInstance, input: StartChallengeInput): Promise<IssuedChallenge> {
  const admission = input.channel === 'sms' ? await app.smsGuard.admit(input.destination) : null
  try {
    return await app.otp.startChallenge(input)
  } catch (error) {
    await admission?.release()
    throw error
  }
}

/**
 * `otp.resendChallenge`, behind the SMS guard for an SMS. The destination is only known once the store has
 * replaced the code, so a refusal withdraws the challenge (its cooldown and quota slot given back): nothing
 * is sent, and the client starts again.
 */
export async function resendChallenge (app: FastifyInstance, challengeId: string): Promise<IssuedChallenge> {
  const challenge = await app.otp.resendChallenge(challengeId)
  if (challenge.channel !== 'sms') return challenge
  try {
    await app.smsGuard.admit(challenge.destination)
  } catch (error) {
    await app.otp.withdrawChallenge(challengeId)
    throw error
  }
  return challenge
}

/**
 * Sends the code of a freshly issued challenge, unless it is a decoy (closed sign-up, disabled user) or a
 * test identifier. When delivery finally fails the challenge is withdrawn, so the user is charged no
 * cooldown or quota slot for a code that never arrived.
 */
export async function deliverChallenge (app: FastifyInstance, challenge: IssuedChallenge, ttlSeconds: number): Promise<void> {
  if (!challenge.deliverable || challenge.isTestIdentifier) return
  try {
    await app.delivery.deliverCode({
      channel: challenge.channel,
      to: challenge.destination,
      code: challenge.code,
      locale: challenge.locale,
      purpose: challenge.purpose,
      expiresInSeconds: ttlSeconds
    })
  } catch (error) {
    await app.otp.withdrawChallenge(challenge.challengeId)
    throw error
  }
}

/** What the client sees of a challenge: never the code, and the destination masked. */
export function challengeView (challenge: IssuedChallenge) {
  return {
    challengeId: challenge.challengeId,
    channel: challenge.channel,
    expiresAt: challenge.expiresAt.toISOString(),
    resendAfter: challenge.resendAfter.toISOString(),
    destination: maskDestination(challenge.destination)
  }
}

export const identifierKind = (channel: 'email' | 'sms') => channel === 'email' ? 'email' as const : 'phone' as const
