import type { Delivery, DeliveryLogger } from '../delivery/delivery.ts'
import type { SmsAdmission, SmsGuard } from '../delivery/sms-guard.ts'
import type { IssuedChallenge, OtpEngine, StartChallengeInput } from '../otp/otp-engine.ts'
import { isAppError } from '../errors.ts'

export interface ChallengeIssuerOptions {
  otp: OtpEngine
  delivery: Delivery
  smsGuard: SmsGuard
  signup: 'open' | 'closed'
  codeTtlSeconds: number
}

/**
 * Issues codes and sends them: start or resend a challenge behind the SMS-pumping guard, then deliver it.
 * Round trips: R the guard's budget (SMS only, beside the caller's own lookup), R the start script, then the
 * provider.
 */
export class ChallengeIssuer {
  readonly #options: ChallengeIssuerOptions

  constructor (options: ChallengeIssuerOptions) {
    this.#options = options
  }

  /**
   * Takes an SMS's budget unit from the guard (null for an email): a channel that is off, a refused number or a
   * spent country budget stores and sends nothing. Run it beside independent work; `issue` gives the unit back
   * if no code is issued.
   */
  async admit (input: Pick<StartChallengeInput, 'channel' | 'destination'>): Promise<SmsAdmission | null> {
    this.#options.delivery.assertEnabled(input.channel)
    return input.channel === 'sms' ? this.#options.smsGuard.admit(input.destination) : null
  }

  /** Starts a challenge (admitted already, or admitted here) and delivers its code. Decoys count like real codes. */
  async issue (input: StartChallengeInput, logger: DeliveryLogger, admission?: SmsAdmission | null): Promise<IssuedChallenge> {
    const admitted = admission === undefined ? await this.admit(input) : admission
    let challenge: IssuedChallenge
    try {
      challenge = await this.#options.otp.startChallenge(input)
    } catch (error) {
      // cooldown, quota or lockout: only issued codes spend the budget
      await admitted?.release()
      throw error
    }
    await this.#deliver(challenge, logger)
    return challenge
  }

  /**
   * A new code for a pending challenge. The destination is only known once the store has replaced the code, so
   * a refusal of the guard withdraws the challenge (cooldown and quota slot given back): the client starts again.
   */
  async reissue (challengeId: string, logger: DeliveryLogger): Promise<IssuedChallenge> {
    const { otp, smsGuard } = this.#options
    const challenge = await otp.resendChallenge(challengeId)
    if (challenge.channel === 'sms') {
      try {
        await smsGuard.admit(challenge.destination)
      } catch (error) {
        await otp.withdrawChallenge(challengeId)
        throw error
      }
    }
    await this.#deliver(challenge, logger)
    return challenge
  }

  /**
   * Sends the code, unless it is a decoy (closed sign-up, disabled user) or a test identifier. When delivery
   * fails the challenge is withdrawn, so the user is charged no cooldown or quota slot for a code that never came.
   *
   * Failures must not tell accounts apart: while a channel's provider keeps failing its circuit is open and
   * everyone, decoys included, gets 503. With SIGNUP=closed a single failed send answers like a decoy (202),
   * since a 502 only ever happens for real accounts there (its challenge and cooldown stay, like a decoy's);
   * with open sign-up everyone gets real sends, so the 502 `delivery_failed` tells the client to retry.
   */
  async #deliver (challenge: IssuedChallenge, logger: DeliveryLogger): Promise<void> {
    const { otp, delivery, signup, codeTtlSeconds } = this.#options
    try {
      delivery.assertAvailable(challenge.channel)
      if (!challenge.deliverable || challenge.isTestIdentifier) return
      await delivery.deliverCode({
        channel: challenge.channel,
        to: challenge.destination,
        code: challenge.code,
        locale: challenge.locale,
        purpose: challenge.purpose,
        expiresInSeconds: codeTtlSeconds,
        logger
      })
    } catch (error) {
      const failedSend = isAppError(error) && error.code === 'delivery_failed'
      // hidden failures keep their challenge and cooldown, exactly like a decoy's
      const hidden = signup === 'closed' && challenge.purpose === 'login' && failedSend
      // the failure that opens the circuit already answers like everyone after it, withdrawn like theirs
      const circuitOpen = failedSend && !delivery.isAvailable(challenge.channel)
      if (hidden && !circuitOpen) return
      await otp.withdrawChallenge(challenge.challengeId)
      if (circuitOpen) delivery.assertAvailable(challenge.channel)
      throw error
    }
  }
}

export const identifierKind = (channel: 'email' | 'sms') => channel === 'email' ? 'email' as const : 'phone' as const
export const channelOf = (kind: 'email' | 'phone') => kind === 'email' ? 'email' as const : 'sms' as const
