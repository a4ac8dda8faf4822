import { Vonage } from '@vonage/server-sdk'
import { DeliveryError, type DeliveryErrorKind, type SentMessage, type SmsMessage, type SmsSender } from './senders.ts'
import { isGsm7 } from './gsm7.ts'

export interface VonageSenderOptions {
  apiKey: string
  apiSecret: string
  /** sender id: an alphanumeric name or a virtual number */
  from: string
  /** the REST host (https://rest.nexmo.com by default), e.g. a fake server in tests */
  baseUrl?: string | undefined
  /** whole request, response body included; the SDK aborts the fetch after it */
  timeoutMs: number
}

type VonageSms = Vonage['sms']
type SmsParams = NonNullable<Parameters<VonageSms['send']>[0]>

/**
 * What each non-zero status of the SMS API means for us (https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms#sms-api-error-codes).
 * Unlisted statuses are `rejected`: a problem with our account, sender or request that retrying will not fix.
 */
const STATUS_KINDS: Record<string, DeliveryErrorKind> = {
  1: 'transient', // throttled
  5: 'transient', // internal error
  6: 'invalid_recipient', // invalid message: unroutable, e.g. unknown number prefix
  7: 'invalid_recipient', // number barred
  10: 'transient', // too many existing binds
  29: 'invalid_recipient', // non-whitelisted destination (trial account)
  33: 'invalid_recipient' // number de-activated
}

// status 3 (invalid parameters) covers every field; it is the recipient's fault only when the error text names `to`
const blamesTo = (errorText: string | undefined) => errorText !== undefined && /\bto\b/i.test(errorText)

function kindOfStatus (status: string, errorText: string | undefined): DeliveryErrorKind {
  if (status === '3' && blamesTo(errorText)) return 'invalid_recipient'
  return STATUS_KINDS[status] ?? 'rejected'
}

interface FailedMessages { getFailedMessages (): Array<{ status?: string, errorText?: string }> }
// the SDK throws MessageSendAllFailure when Vonage answers 200 with a non-zero status
const isSmsFailure = (error: unknown): error is FailedMessages =>
  typeof (error as Partial<FailedMessages> | null)?.getFailedMessages === 'function'

// VetchError: the HTTP status was not 2xx; `response` is the fetch Response
const httpStatusOf = (error: unknown): number | undefined => {
  const status = (error as { response?: { status?: unknown } } | null)?.response?.status
  return typeof status === 'number' ? status : undefined
}

function toDeliveryError (error: unknown): DeliveryError {
  if (isSmsFailure(error)) {
    const [failed] = error.getFailedMessages()
    const status = failed?.status ?? 'unknown'
    return new DeliveryError(kindOfStatus(status, failed?.errorText), `vonage: status ${status}`, { providerStatus: status })
  }
  const httpStatus = httpStatusOf(error)
  if (httpStatus !== undefined) {
    const kind = httpStatus >= 500 || httpStatus === 429 ? 'transient' : 'rejected'
    return new DeliveryError(kind, `vonage: HTTP ${httpStatus}`, { providerStatus: String(httpStatus) })
  }
  // an aborted fetch (the timeout) or `TypeError: fetch failed` (connection refused, reset, DNS)
  const name = error instanceof Error ? error.name : 'unknown'
  if (name === 'AbortError' || name === 'TimeoutError' || error instanceof TypeError) {
    return new DeliveryError('transient', `vonage: ${name === 'TypeError' ? 'network error' : 'timeout'}`)
  }
  return new DeliveryError('rejected', 'vonage: the request could not be made')
}

/**
 * SmsSender through the SMS API of @vonage/server-sdk (POST {restHost}/sms/json, JSON body,
 * `Authorization: Basic base64(key:secret)`).
 */
export class VonageSender implements SmsSender {
  readonly #sms: VonageSms
  readonly #from: string

  constructor (options: VonageSenderOptions) {
    const vonage = new Vonage(
      // without a privateKey, @vonage/auth calls fs.existsSync(undefined): a DEP0187 warning on every start
      { apiKey: options.apiKey, apiSecret: options.apiSecret, privateKey: '' },
      { timeout: options.timeoutMs, ...(options.baseUrl === undefined ? {} : { restHost: options.baseUrl.replace(/\/+$/, '') }) }
    )
    this.#sms = vonage.sms
    this.#from = options.from
  }

  async send (sms: SmsMessage): Promise<SentMessage> {
    const params: SmsParams = {
      from: this.#from,
      // the SMS API takes international numbers without the leading +
      to: sms.to.replace(/^\+/, ''),
      text: sms.text,
      // an app name outside GSM-7 would otherwise reach the phone as question marks
      ...(isGsm7(sms.text) ? {} : { type: 'unicode' as SmsParams['type'] })
    }
    try {
      const response = await this.#sms.send(params)
      return { messageId: response.messages[0]?.messageId ?? null }
    } catch (error) {
      throw toDeliveryError(error)
    }
  }
}
