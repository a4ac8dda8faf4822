import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Config } from '../../src/config.ts'
import type { IssuedChallenge } from '../../src/otp/otp-engine.ts'
import { maskDestination } from '../../src/delivery/mask.ts'
import { isAppError } from '../../src/errors.ts'

/**
 * Sends the code of a freshly issued challenge, unless it is a decoy (closed sign-up, disabled user) or a
 * test identifier. When delivery fails the challenge is withdrawn, so the user is charged no cooldown or
 * quota slot for a code that never arrived.
 *
 * Failures must not tell accounts apart: while a channel's provider keeps failing its circuit is open and
 * everyone, decoys included, gets 503. With SIGNUP=closed a single failed send answers like a decoy (202),
 * since a 502 only ever happens for real accounts there (its challenge and cooldown stay, like a decoy's); with open sign-up everyone gets real sends, so the
 * 502 `delivery_failed` tells the client to retry.
 */
export async function deliverChallenge (app: FastifyInstance, config: Config, challenge: IssuedChallenge, log: FastifyBaseLogger): Promise<void> {
  try {
    app.delivery.assertAvailable(challenge.channel)
    if (!challenge.deliverable || challenge.isTestIdentifier) return
    await app.delivery.deliverCode({
      channel: challenge.channel,
      to: challenge.destination,
      code: challenge.code,
      locale: challenge.locale,
      purpose: challenge.purpose,
      expiresInSeconds: config.OTP_TTL_SECONDS,
      logger: log.child({ component: 'delivery' })
    })
  } catch (error) {
    // hidden failures keep their challenge and cooldown, exactly like a decoy's
    const hidden = config.SIGNUP === 'closed' && challenge.purpose === 'login' && isAppError(error) && error.code === 'delivery_failed'
    // the failure that opens the circuit already answers like everyone after it, withdrawn like theirs
    const circuitOpen = isAppError(error) && error.code === 'delivery_failed' && !app.delivery.isAvailable(challenge.channel)
    if (hidden && !circuitOpen) return
    await app.otp.withdrawChallenge(challenge.challengeId)
    if (circuitOpen) app.delivery.assertAvailable(challenge.channel)
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
