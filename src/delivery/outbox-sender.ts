import { DeliveryError, type SentMessage } from './senders.ts'
import type { Outbox } from './outbox.ts'

/**
 * The dev outbox as a sender. It takes the rendered message like an EmailSender or SmsSender does, plus the
 * code, which it records next to the text (the SMS, or the email's text body) so GET /v1/dev/outbox can show it.
 */
export class OutboxSender {
  readonly #outbox: Outbox
  readonly #channel: 'email' | 'sms'
  readonly #now: () => Date

  constructor (outbox: Outbox, channel: 'email' | 'sms', now: () => Date = () => new Date()) {
    this.#outbox = outbox
    this.#channel = channel
    this.#now = now
  }

  async send (message: { to: string, text: string }, code: string): Promise<SentMessage> {
    try {
      await this.#outbox.add({
        to: message.to, channel: this.#channel, code, text: message.text, sentAt: this.#now().toISOString()
      })
    } catch {
      // a store error may quote the command, and with it the code
      throw new DeliveryError('transient', 'outbox: the store failed')
    }
    return { messageId: null }
  }
}
