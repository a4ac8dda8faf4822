import { Client } from '@sendgrid/client'
import { MailService } from '@sendgrid/mail'
import { DeliveryError, type EmailMessage, type EmailSender, type SentMessage } from './senders.ts'

export interface SendGridSenderOptions {
  apiKey: string
  from: { email: string, name?: string | undefined }
  /** e.g. a fake server in tests; the SDK's own default otherwise */
  baseUrl?: string | undefined
  /** per request: connect, then no byte from SendGrid for this long, and the attempt fails as transient */
  timeoutMs: number
}

interface SendGridFailure {
  code: number
  response: { headers: Record<string, string | undefined>, body: unknown }
}

const isResponseError = (error: unknown): error is SendGridFailure =>
  error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && typeof (error as { response?: unknown }).response === 'object'

// axios (under @sendgrid/client) flags its own errors: timeouts (ECONNABORTED) and network failures
const isTransportError = (error: unknown): error is Error & { code?: string } =>
  error instanceof Error && (error as { isAxiosError?: unknown }).isAxiosError === true

/** Retry-After is either delay-seconds or an HTTP date. */
export function parseRetryAfter (value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

// SendGrid answers 400 for a malformed recipient with e.g.
// { field: 'personalizations.0.to.0.email', message: 'Does not contain a valid address.' }
function blamesRecipient (body: unknown): boolean {
  const errors = (body as { errors?: unknown } | null)?.errors
  if (!Array.isArray(errors)) return false
  return errors.some((error: { field?: unknown }) => typeof error?.field === 'string' && /^personalizations\.\d+\.to\b/.test(error.field))
}

function toDeliveryError (error: unknown): DeliveryError {
  if (isResponseError(error)) {
    const status = error.code
    const providerStatus = String(status)
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(error.response.headers['retry-after'])
      return new DeliveryError('transient', 'sendgrid: HTTP 429', { providerStatus, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })
    }
    if (status >= 500) return new DeliveryError('transient', `sendgrid: HTTP ${status}`, { providerStatus })
    if (status === 400 && blamesRecipient(error.response.body)) return new DeliveryError('invalid_recipient', 'sendgrid: HTTP 400, invalid recipient', { providerStatus })
    return new DeliveryError('rejected', `sendgrid: HTTP ${status}`, { providerStatus })
  }
  if (isTransportError(error)) return new DeliveryError('transient', `sendgrid: ${error.code ?? 'network error'}`, { providerStatus: error.code })
  return new DeliveryError('rejected', 'sendgrid: the request could not be built')
}

/**
 * Every message we send is automatic (RFC 3834: no out-of-office replies to it) and untracked: click tracking
 * would rewrite a magic link through SendGrid's servers, open tracking would add a pixel.
 */
const AUTOMATED_MAIL = {
  headers: { 'Auto-Submitted': 'auto-generated' },
  trackingSettings: { clickTracking: { enable: false, enableText: false }, openTracking: { enable: false } }
}

/**
 * EmailSender through @sendgrid/mail (POST /v3/mail/send, `Authorization: Bearer <key>`).
 * The SDK's errors carry the request (API key, body with the code): they are translated here and never rethrown.
 */
export class SendGridSender implements EmailSender {
  readonly #mail: MailService
  readonly #from: { email: string, name?: string }

  constructor (options: SendGridSenderOptions) {
    const client = new Client()
    client.setApiKey(options.apiKey)
    // after setApiKey, which resets the base URL to the region's
    if (options.baseUrl !== undefined) client.setDefaultRequest('baseUrl', options.baseUrl)
    this.#mail = new MailService()
    this.#mail.setClient(client)
    this.#mail.setTimeout(options.timeoutMs)
    this.#from = options.from.name === undefined
      ? { email: options.from.email }
      : { email: options.from.email, name: options.from.name }
  }

  async send (email: EmailMessage): Promise<SentMessage> {
    const body = email.providerTemplate === undefined
      ? { subject: email.subject, text: email.text, html: email.html }
      : { templateId: email.providerTemplate.id, dynamicTemplateData: email.providerTemplate.data }
    try {
      const [response] = await this.#mail.send({ to: email.to, from: this.#from, ...body, ...AUTOMATED_MAIL })
      const messageId = (response.headers as Record<string, unknown>)['x-message-id']
      return { messageId: typeof messageId === 'string' ? messageId : null }
    } catch (error) {
      throw toDeliveryError(error)
    }
  }
}
