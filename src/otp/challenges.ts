import type { ChallengePayload, IssuedCode } from './otp-store.ts'

// what OtpEngine takes and hands back

/** What a delivery worker does with a queued code (OtpEngine.deliveryOf). */
export type CodeDeliveryAction = 'send' | 'rehearse' | 'drop'

/**
 * Whose budget a code request spends: `anonymous` (anyone who types the address) or `owner` (a device that signed
 * in with this destination before, or a signed-in user's step-up to its own identifier). Each lane has its own
 * cooldown, quotas and throttle, so spending or guessing in one never refuses the other.
 */
export type BudgetLane = 'anonymous' | 'owner'

export interface StartChallengeInput {
  purpose: string
  channel: 'email' | 'sms'
  /** normalised by the caller */
  destination: string
  userId?: string | null
  locale?: string | null
  /** false = decoy (closed sign-up, disabled user): counted like a real one, never accepted by the caller */
  deliverable?: boolean
  /** anonymous unless said */
  lane?: BudgetLane
}

/** What a challenge is about, as start, resend and verify hand it back. */
export interface ChallengeDetails extends ChallengePayload {
  challengeId: string
}

export interface VerifiedChallenge extends ChallengeDetails {
  /**
   * Undoes this verify when the work that depends on it failed (a database was unavailable): the challenge comes
   * back with its code, attempts and remaining TTL, so the same code works once more. Resolves false, changing
   * nothing, when it has lapsed meanwhile, a newer challenge replaced it, or this was already called. Rejects when
   * the store is unreachable. A function, so the snapshot it closes over (it holds the code hash) is never
   * serialised or logged with the challenge.
   */
  reinstate: () => Promise<boolean>
}

export interface IssuedChallenge extends ChallengeDetails {
  /** to deliver, never to log */
  code: string
  /**
   * Set when the destination's code checks are suspended and this is a sign-in: the sign-in link's token
   * (`<challengeId>.<secret>`) to deliver instead of the code, which cannot be verified. Never to log.
   */
  linkToken: string | null
  isTestIdentifier: boolean
  expiresAt: Date
  resendAfter: Date
}

/** A start's or resend's answer, with the code the engine issued. */
export function issuedChallenge (
  challengeId: string, code: string, isTestIdentifier: boolean, issued: IssuedCode, linkToken: string
): IssuedChallenge {
  return {
    challengeId,
    code,
    // only a sign-in has a page a link can open (MAGIC_LINK_URL); other purposes wait for the suspension to end
    linkToken: issued.suspended && issued.payload.purpose === 'login' ? linkToken : null,
    ...issued.payload,
    isTestIdentifier,
    expiresAt: new Date(issued.expiresAt),
    resendAfter: new Date(issued.resendAfter)
  }
}
