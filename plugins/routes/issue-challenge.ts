import type { FastifyInstance } from 'fastify'
import type { IssuedChallenge } from '../../src/otp/otp-engine.ts'
import { maskDestination } from '../../src/delivery/mask.ts'

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
