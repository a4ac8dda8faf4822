import type { FastifyInstance } from 'fastify'
import type { IssuedChallenge, StartChallengeInput } from '../../src/otp/otp-engine.ts'

/**
 * `otp.startChallenge` on a channel that is on, behind the SMS guard for an SMS: a refused number or a spent country budget stores
 * and sends nothing. The budget unit is given back when the engine refuses (cooldown, quota, lockout), so
 * only issued codes count. Decoys count like real codes: the guard must not tell accounts apart.
 */
export async function startChallenge (app: FastifyInstance, input: StartChallengeInput): Promise<IssuedChallenge> {
  // a channel that is off stores, counts and sends nothing
  app.delivery.assertEnabled(input.channel)
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
