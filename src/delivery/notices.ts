import { randomUUID } from 'node:crypto'
import type { Channel } from './delivery.ts'
import type { DeliveryQueue } from './delivery-queue.ts'
import { sealingContext, type JobCipher } from './job-cipher.ts'

export type NoticeKind = 'identifier_changed' | 'login_throttled' | 'authenticator_added' | 'account_deleted' | 'authenticator_removed' | 'passkey_added'

/** What a notice says, beside where it goes: safe to store and log (the identifier is masked). */
export interface NoticeContent {
  kind: NoticeKind
  /** identifier_changed: the identifier the account can now sign in with, masked (mask.ts) */
  maskedIdentifier?: string
  /** login_throttled: how long sign-in is slowed down */
  minutes?: number
  /**
   * authenticator_added: how long the owner can remove it with a code to their email or phone; identifier_changed
   * with an undo link: how long the link works
   */
  days?: number
}

/** A message to a user that carries no code: a security event on their account. */
export interface Notice extends NoticeContent {
  channel: Channel
  /** normalised email, or E.164 phone number */
  to: string
  /** BCP 47, or null for English */
  locale: string | null
  /** identifier_changed: the link that takes the change back; a secret, so sealed with the destination */
  undoLink?: string
}

/**
 * Tells a user something happened to their account. Resolves once the notice is on its way (queued), rejects when
 * it could not be; the provider's answer is the delivery worker's business, as for codes.
 */
export interface Notifier {
  notify (notice: Notice): Promise<void>
}

export interface QueuedNotifierOptions {
  queue: DeliveryQueue
  cipher: JobCipher
  /** channels with no provider and no dev outbox: a notice for them is dropped here, as it could never be sent */
  offChannels: readonly Channel[]
  /** epoch ms, the queue's clock */
  now?: () => number
}

/** past this a notice is no longer worth sending (a day: a provider outage, not a reason to stay silent) */
const NOTICE_TTL_MS = 24 * 3600 * 1000

/**
 * Notifier on the delivery queue: a notice is a job like a code's, its destination sealed the same way, with no
 * challenge to check, so the worker sends it through the same providers, retries and circuit.
 */
export class QueuedNotifier implements Notifier {
  readonly #options: QueuedNotifierOptions
  readonly #now: () => number

  constructor (options: QueuedNotifierOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  async notify ({ channel, to, locale, undoLink, ...content }: Notice): Promise<void> {
    const { queue, cipher, offChannels } = this.#options
    if (offChannels.includes(channel)) return
    const job = { challengeId: `notice-${randomUUID()}`, channel, expiresAt: this.#now() + NOTICE_TTL_MS }
    await queue.enqueue({
      kind: 'notice',
      ...job,
      locale,
      purpose: content.kind,
      notice: content,
      // a notice has no code: the sealed code slot carries its secret link, if any, which no log or job listing shows
      sealed: cipher.seal({ code: undoLink ?? '', to }, sealingContext(job))
    })
  }
}
