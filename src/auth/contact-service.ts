import { AppError, isAppError } from '../errors.ts'
import type { DeliveryLogger } from '../delivery/delivery.ts'
import { maskDestination } from '../delivery/mask.ts'
import type { Notifier } from '../delivery/notices.ts'
import type { IssuedChallenge, OtpEngine } from '../otp/otp-engine.ts'
import type { IdentifierKind, User, UserRepository } from '../users/user-repository.ts'
import { channelOf, identifierKind, type ChallengeIssuer } from './challenge-issuer.ts'
import type { AccountProof, AccountProofInput, Caller } from './account-proof.ts'
import type { ReauthProof, ReauthProofs } from './reauth-proofs.ts'
import { reinstateOnFailure } from './reinstate-on-failure.ts'
import type { SessionService } from './session-service.ts'
import { UNDO_LINK_DAYS, type IdentifierUndoLinks } from './identifier-undo-links.ts'

export interface ContactServiceOptions {
  otp: OtpEngine
  issuer: ChallengeIssuer
  users: UserRepository
  sessions: SessionService
  notifier: Notifier
  /** issues step-up proofs */
  proofs: ReauthProofs
  /** checks them, with the other kinds of proof */
  accountProof: AccountProof
  /** the link the replaced identifier gets, to take the change back */
  undoLinks: Pick<IdentifierUndoLinks, 'make'>
  now: () => Date
}

export type { Caller }

/** The user after an attach, and what was attached (for the audit log). */
export interface AttachedIdentifier { user: User, kind: IdentifierKind, destination: string }

/**
 * The user's own sign-in identifiers: adding or replacing one that can sign in (the email or the phone) needs
 * proof that the caller holds the account, not just a token: a sign-in within `recentSignInSeconds`, a fresh code
 * sent to an identifier the account already has (a step-up), or a code of the authenticator app. After a change
 * the other sessions end and the identifier it replaced (else the account's other one) is told; a replaced one with
 * a link that takes the change back (IdentifierUndoLinks).
 */
export class ContactService {
  readonly #options: ContactServiceOptions

  constructor (options: ContactServiceOptions) {
    this.#options = options
  }

  /**
   * A step-up code to the account's email or phone (the email unless `channel` says). 409 when it has none there.
   * It spends the owner's budget lane: anonymous code requests for that address never refuse a signed-in user.
   */
  async startReauthentication (user: User, channel: 'email' | 'sms' | undefined, logger: DeliveryLogger, clientIp?: string): Promise<IssuedChallenge> {
    const kind: IdentifierKind = channel === undefined ? (user.email === null ? 'phone' : 'email') : identifierKind(channel)
    const destination = user[kind]
    if (destination === null) throw new AppError('conflict', { detail: `The account has no ${kind === 'email' ? 'email address' : 'phone number'} to send a code to.` })
    const input = {
      purpose: 'reauth', channel: channelOf(kind), destination, userId: user.id, locale: user.locale, deliverable: true, lane: 'owner' as const
    }
    return this.#options.issuer.issue(input, logger, undefined, clientIp)
  }

  /** The step-up code → a short-lived proof for this session. The code must still go to one of the account's. */
  async completeReauthentication (caller: Caller, challengeId: string, code: string): Promise<ReauthProof> {
    const { otp, users, proofs, issuer } = this.#options
    const verified = await otp.verifyChallenge({ challengeId, code, purpose: 'reauth' })
    if (verified.userId !== caller.userId) throw new AppError('invalid_code')
    issuer.recordVerified(verified.channel, verified.destination)
    const user = await users.findById(caller.userId)
    if (user?.status !== 'active') throw new AppError('unauthorized', { detail: 'The account is not active.' })
    if (user[identifierKind(verified.channel)] !== verified.destination) throw new AppError('invalid_code')
    return proofs.issue(caller.userId, caller.sessionId)
  }

  /**
   * Attaches the email or phone a verify_contact challenge proved. When that adds or replaces a sign-in identifier,
   * a proof is required first (403 reauthentication_required without one, and the challenge is put back, so the same
   * code works once proof is shown); then the other sessions end, before the change, and the account is told after.
   */
  async attachVerified (
    caller: Caller,
    challenge: { challengeId: string, code: string },
    proof: AccountProofInput,
    logger: DeliveryLogger
  ): Promise<AttachedIdentifier> {
    const { otp, users, sessions, issuer, now } = this.#options
    const verified = await otp.verifyChallenge({ ...challenge, purpose: 'verify_contact' })
    // a challenge started by another account is no proof for this one
    if (verified.userId !== caller.userId) throw new AppError('invalid_code')
    const kind = identifierKind(verified.channel)
    // a refused proof puts the code back too: it works again once the caller brings proof
    return await reinstateOnFailure(verified, logger, async () => {
      const user = await users.findById(caller.userId)
      if (user?.status !== 'active') throw new AppError('unauthorized', { detail: 'The account is not active.' })
      const changes = user[kind] !== verified.destination
      if (changes) {
        await this.#options.accountProof.require(caller, proof, 'Changing a sign-in email or phone')
        // before the change: if the sessions cannot be ended, nothing changes
        await sessions.endOthers(caller.userId, caller.sessionId)
      }
      const updated = await users.attachIdentifier(caller.userId, kind, verified.destination, now())
      issuer.recordVerified(verified.channel, verified.destination)
      if (changes) await this.#tell(user, kind, verified.destination, logger)
      return { user: updated, kind, destination: verified.destination }
    }, isProofRefusal)
  }

  /**
   * The identifier it replaced is told, with a link that takes the change back (by SMS too); for an addition, the
   * account's other one (there is nothing to restore). Never fails the change.
   */
  async #tell (before: User, kind: IdentifierKind, value: string, logger: DeliveryLogger): Promise<void> {
    const other: IdentifierKind = kind === 'email' ? 'phone' : 'email'
    const replaced = before[kind]
    const toKind = replaced === null ? other : kind
    const to = before[toKind]
    if (to === null) return
    try {
      const undoLink = replaced === null ? null : await this.#options.undoLinks.make(before.id, kind, replaced)
      await this.#options.notifier.notify({
        kind: 'identifier_changed',
        channel: channelOf(toKind),
        to,
        locale: before.locale,
        maskedIdentifier: maskDestination(value),
        ...(undoLink === null ? {} : { undoLink, days: UNDO_LINK_DAYS })
      })
    } catch (error) {
      logger.warn({ err: error }, 'could not queue the notice of a changed identifier')
    }
  }
}

/** a missing or wrong proof, or too many wrong authenticator codes: the contact's code is not to blame */
const PROOF_REFUSALS = new Set(['reauthentication_required', 'rate_limited'])
const isProofRefusal = (error: unknown) => isAppError(error) && PROOF_REFUSALS.has(error.code)
