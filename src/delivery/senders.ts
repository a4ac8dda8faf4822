export interface EmailMessage {
  to: string
  subject: string
  text: string
  html: string
  /**
   * A template the provider keeps (a SendGrid dynamic template) and the values to fill it with: a sender that
   * knows it sends that instead of subject, text and html; others send those.
   */
  providerTemplate?: { id: string, data: Record<string, unknown> } | undefined
}

export interface SmsMessage {
  /** E.164, with the leading + */
  to: string
  text: string
}

export interface SentMessage {
  /** the provider's id for the message, when it gives one */
  messageId: string | null
}

/**
 * Sends one email through a provider.
 * Resolves once the provider has accepted the message; rejects with a DeliveryError, never with a raw SDK error,
 * so nothing downstream can log the provider request (which holds the API key and the code).
 */
export interface EmailSender {
  send (email: EmailMessage): Promise<SentMessage>
}

/** Sends one SMS through a provider; same contract as EmailSender. */
export interface SmsSender {
  send (sms: SmsMessage): Promise<SentMessage>
}

/**
 * - `transient`: worth another try (timeout, network error, 5xx, 429, provider throttling)
 * - `invalid_recipient`: the destination itself cannot receive messages; retrying will not help
 * - `rejected`: the provider refused the request for another reason (credentials, sender, content, balance)
 */
export type DeliveryErrorKind = 'transient' | 'invalid_recipient' | 'rejected'

export interface DeliveryErrorOptions {
  /** how long the provider asked us to wait (Retry-After) */
  retryAfterMs?: number
  /** the provider's HTTP status or per-message status, for logs */
  providerStatus?: string
}

/** The one error senders throw. Its message names the provider and status only: never the destination or the text. */
export class DeliveryError extends Error {
  override name = 'DeliveryError'
  readonly kind: DeliveryErrorKind
  readonly retryAfterMs: number | undefined
  readonly providerStatus: string | undefined

  constructor (kind: DeliveryErrorKind, message: string, options: DeliveryErrorOptions = {}) {
    super(message)
    this.kind = kind
    this.retryAfterMs = options.retryAfterMs
    this.providerStatus = options.providerStatus
  }
}

export const isDeliveryError = (error: unknown): error is DeliveryError => error instanceof DeliveryError
