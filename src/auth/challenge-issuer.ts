import type { Delivery, DeliveryLogger } from '../delivery/delivery.ts'
import type { DeliveryQueue } from '../delivery/delivery-queue.ts'
import { sealingContext, type JobCipher } from '../delivery/job-cipher.ts'
import type { SmsAdmission, SmsGuard } from '../delivery/sms-guard.ts'
import type { IssuedChallenge, OtpEngine, StartChallengeInput } from '../otp/otp-engine.ts'
import { NO_METRICS, type Metrics } from '../metrics/metrics.ts'

export interface ChallengeIssuerOptions {
  otp: OtpEngine
  /** which channels are on and whether their circuit is closed; the sending itself is the queue's worker's */
  delivery: Pick<Delivery, 'assertEnabled' | 'assertAvailable'>
  smsGuard: SmsGuard
  queue: DeliveryQueue
  cipher: JobCipher
  /** counts started challenges and every code sent (the conversion ratio's denominator) */
  metrics?: Metrics
}

/**
 * Issues codes and queues them: start or resend a challenge behind the SMS-pumping guard, then enqueue its
 * delivery (the code sealed). Nothing on the request path waits for a provider, so a request costs the same
 * whatever the provider does, and whether or not the identifier has an account: decoys are queued like real
 * codes, and the worker drops them (OtpEngine.isDeliverable).
 * Round trips: R the guard's budget ∥ R its conversion check (SMS only, beside the caller's own lookup), R the start
 * script, R the enqueue.
 */
export class ChallengeIssuer {
  readonly #options: ChallengeIssuerOptions
  readonly #metrics: Metrics

  constructor (options: ChallengeIssuerOptions) {
    this.#options = options
    this.#metrics = options.metrics ?? NO_METRICS
  }

  /**
   * Takes an SMS's budget unit from the guard (null for an email): a channel that is off, a refused number or a
   * spent country budget stores and sends nothing. Run it beside independent work; `issue` gives the unit back
   * if no code is issued.
   */
  async admit (input: Pick<StartChallengeInput, 'channel' | 'destination'>, clientIp?: string): Promise<SmsAdmission | null> {
    this.#options.delivery.assertEnabled(input.channel)
    return input.channel === 'sms' ? this.#options.smsGuard.admit(input.destination, clientIp) : null
  }

  /** Starts a challenge (admitted already, or admitted here) and delivers its code. Decoys count like real codes. */
  async issue (
    input: StartChallengeInput, logger: DeliveryLogger, admission?: SmsAdmission | null, clientIp?: string
  ): Promise<IssuedChallenge> {
    const admitted = admission === undefined ? await this.admit(input, clientIp) : admission
    let challenge: IssuedChallenge
    try {
      challenge = await this.#options.otp.startChallenge(input)
    } catch (error) {
      // cooldown, quota or lockout: only issued codes spend the budget
      await admitted?.release()
      throw error
    }
    await this.#deliver(challenge, logger)
    this.#metrics.challengeStarted(challenge.channel, challenge.destination)
    return challenge
  }

  /**
   * A new code for a pending challenge. The destination is only known once the store has replaced the code, so
   * a refusal of the guard withdraws the challenge (cooldown and quota slot given back): the client starts again.
   */
  async reissue (challengeId: string, logger: DeliveryLogger, clientIp?: string): Promise<IssuedChallenge> {
    const { otp, smsGuard } = this.#options
    const challenge = await otp.resendChallenge(challengeId)
    if (challenge.channel === 'sms') {
      try {
        await smsGuard.admit(challenge.destination, clientIp)
      } catch (error) {
        await otp.withdrawChallenge(challengeId)
        throw error
      }
    }
    await this.#deliver(challenge, logger)
    this.#metrics.codeResent(challenge.channel, challenge.destination)
    return challenge
  }

  /** A code was used: an SMS one counts toward its number range's conversion (fire and forget). */
  recordVerified (channel: 'email' | 'sms', destination: string): void {
    if (channel === 'sms') this.#options.smsGuard.recordVerified(destination)
  }

  /**
   * Queues the code; a test identifier's fixed code is never sent. A channel whose circuit is open answers 503
   * before anything is queued. When the queue cannot take the job (Redis down) the challenge is withdrawn, so the
   * user is charged no cooldown or quota slot for a code that was never on its way, and the request fails.
   */
  async #deliver (challenge: IssuedChallenge, logger: DeliveryLogger): Promise<void> {
    const { otp, delivery, queue, cipher } = this.#options
    try {
      delivery.assertAvailable(challenge.channel)
      if (challenge.isTestIdentifier) return
      const job = {
        challengeId: challenge.challengeId, channel: challenge.channel, expiresAt: challenge.expiresAt.getTime()
      }
      await queue.enqueue({
        kind: 'code',
        ...job,
        locale: challenge.locale,
        purpose: challenge.purpose,
        // a suspended destination's code cannot be verified: only its sign-in link goes out
        sealed: cipher.seal(challenge.linkToken === null
          ? { code: challenge.code, to: challenge.destination }
          : { code: '', to: challenge.destination, link: challenge.linkToken }, sealingContext(job))
      })
    } catch (error) {
      await otp.withdrawChallenge(challenge.challengeId).catch((withdrawError: unknown) => logger.warn({ err: withdrawError }, 'could not withdraw the challenge'))
      throw error
    }
  }
}

export const identifierKind = (channel: 'email' | 'sms') => channel === 'email' ? 'email' as const : 'phone' as const
export const channelOf = (kind: 'email' | 'phone') => kind === 'email' ? 'email' as const : 'sms' as const
