import { setTimeout as sleepFor } from 'node:timers/promises'
import { backoffMs, type Backoff } from '../backoff.ts'
import { isEmbedded, type Config } from '../config.ts'
import { AppError } from '../errors.ts'
import { isDeliveryError, type DeliveryError, type EmailMessage, type SentMessage, type SmsMessage } from './senders.ts'
import type { Outbox } from './outbox.ts'
import { OutboxSender } from './outbox-sender.ts'
import { SendGridSender } from './sendgrid-sender.ts'
import { VonageSender } from './vonage-sender.ts'
import {
  builtInTemplates, loadMessageTemplates, minutesOf, renderCodeEmail, renderCodeSms, renderNoticeEmail, renderNoticeSms,
  type MessageTemplates
} from './templates/render.ts'
import type { NoticeContent } from './notices.ts'
import { magicLink } from './magic-link.ts'
import { sendGridTemplateIds } from './sendgrid-template-ids.ts'
import { maskDestination } from './mask.ts'
import { CircuitBreaker } from './circuit-breaker.ts'
import { LatencySample } from './latency-sample.ts'
import { NO_METRICS, type Metrics } from '../metrics/metrics.ts'
import { inClientSpan } from '../telemetry/spans.ts'

export type Channel = 'email' | 'sms'
export type Provider = 'sendgrid' | 'vonage' | 'outbox'

export interface DeliverCodeRequest {
  channel: Channel
  /** normalised email, or E.164 phone number */
  to: string
  code: string
  /** the challenge the code answers, for the magic link; never logged with the code */
  challengeId?: string | undefined
  /** BCP 47, e.g. `fr-CA`; null or unknown gives English */
  locale: string | null
  purpose: string
  expiresInSeconds: number
  /** the request's logger, so delivery lines carry its request id; the Delivery's own logger otherwise */
  logger?: DeliveryLogger | undefined
  /** further attempts after a transient failure, instead of DeliveryOptions.retries: 0 where a queue retries */
  retries?: number | undefined
}

/** A notice to send now (src/delivery/notices.ts): like a code request, with what it says instead of a code. */
export interface DeliverNoticeRequest extends Pick<DeliverCodeRequest, 'channel' | 'to' | 'locale' | 'logger' | 'retries'> {
  notice: NoticeContent
}

/** What one send needs to know, for a code or a notice; a notice has no code (''). */
type SendRequest = Pick<DeliverCodeRequest, 'channel' | 'to' | 'code' | 'purpose' | 'logger' | 'retries'>

export interface DeliveryResult {
  provider: Provider
  messageId: string | null
}

export interface DeliveryLogger {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
}

/** A sender as Delivery drives it: EmailSender and SmsSender fit (they ignore the code); OutboxSender records it. */
export interface CodeSender<Message> {
  send (message: Message, code: string): Promise<SentMessage>
}

export interface Route<Message> {
  provider: Provider
  sender: CodeSender<Message>
}

export interface DeliveryOptions {
  /** null: the channel is off (no provider, and no dev outbox), so every start for it answers 503 */
  email: Route<EmailMessage> | null
  sms: Route<SmsMessage> | null
  appName: string
  webOtpDomain?: string | undefined
  /** the built-in ones with the default branding when not given */
  templates?: MessageTemplates | undefined
  /** MAGIC_LINK_URL: login code emails also carry `#challengeId=…&code=…` on it */
  magicLinkUrl?: string | undefined
  /** SENDGRID_TEMPLATE_ID: the provider's template for a locale, if any */
  providerTemplateFor?: ((locale: string | null) => string | undefined) | undefined
  /** further attempts after a transient failure */
  retries: number
  /** the per-attempt timeout the senders use; a Retry-After longer than this is not waited for */
  timeoutMs: number
  /** consecutive failed deliveries that open a channel's circuit, and for how long */
  breaker?: { threshold: number, openMs: number, now?: () => number } | undefined
  /** told when a channel's breaker opens itself, to share it with the other processes */
  onCircuitOpen?: ((channel: Channel, until: number) => void) | undefined
  logger?: DeliveryLogger | undefined
  sleep?: ((ms: number) => Promise<void>) | undefined
  /** counts each provider attempt by outcome */
  metrics?: Metrics | undefined
}

/** the wait between a request's own attempts (src/backoff.ts) */
const RETRY_BACKOFF: Backoff = { baseMs: 100, maxMs: 1000 }

/** Provider statuses of refused credentials: SendGrid's HTTP 401/403, Vonage's HTTP 401 and its status 4. */
const AUTHENTICATION_FAILURES = new Set(['401', '403', '4'])

/** 5xx, timeouts, throttling, refused credentials: the provider's fault, never the destination's. */
function isProviderFailure (failure: DeliveryError | undefined): boolean {
  if (failure === undefined || failure.kind === 'transient') return true
  return failure.kind === 'rejected' && AUTHENTICATION_FAILURES.has(String(failure.providerStatus))
}

const NO_LOGGER: DeliveryLogger = { info: () => {}, warn: () => {} }
const WORDS = { email: { destination: 'email address', message: 'email' }, sms: { destination: 'phone number', message: 'SMS' } }

/**
 * Renders a code message in the user's language and hands it to the channel's provider, retrying transient
 * failures with a bounded backoff. Logs carry the outcome, provider, attempts, latency and message id, and a
 * masked destination: never the code or the full destination.
 */
export class Delivery {
  /** which channels go to the dev outbox, so the HTTP layer knows whether to mount GET /v1/dev/outbox */
  readonly usesOutbox: { email: boolean, sms: boolean }
  /** channels with neither a provider nor the dev outbox */
  readonly offChannels: Channel[]
  /** what every message is rendered with: notices too, and the dev previews */
  readonly templates: MessageTemplates
  readonly #options: DeliveryOptions
  readonly #logger: DeliveryLogger
  readonly #sleep: (ms: number) => Promise<void>
  readonly #breakers: Record<Channel, CircuitBreaker>
  readonly #latencies: Record<Channel, LatencySample> = { email: new LatencySample(), sms: new LatencySample() }
  readonly #metrics: Metrics

  constructor (options: DeliveryOptions) {
    this.#options = options
    this.templates = options.templates ?? builtInTemplates()
    this.#metrics = options.metrics ?? NO_METRICS
    this.#logger = options.logger ?? NO_LOGGER
    this.#sleep = options.sleep ?? ((ms) => sleepFor(ms))
    this.usesOutbox = { email: options.email?.provider === 'outbox', sms: options.sms?.provider === 'outbox' }
    this.offChannels = (['email', 'sms'] as const).filter((channel) => options[channel] === null)
    const breaker = options.breaker ?? { threshold: 5, openMs: 30_000 }
    const onOpen = (channel: Channel) => (until: number) => options.onCircuitOpen?.(channel, until)
    this.#breakers = {
      email: new CircuitBreaker({ ...breaker, onOpen: onOpen('email') }),
      sms: new CircuitBreaker({ ...breaker, onOpen: onOpen('sms') })
    }
  }

  /** A circuit another process opened (CircuitBoard): this one refuses the channel until then too. */
  openCircuit (channel: Channel, until: number): void {
    this.#breakers[channel].openUntil(until)
  }

  /** Throws AppError `service_unavailable` naming the channel when it is off: no provider, no dev outbox. */
  assertEnabled (channel: Channel): void {
    if (this.#options[channel] === null) {
      throw new AppError('service_unavailable', { detail: `Codes by ${WORDS[channel].message} are switched off on this server: no ${WORDS[channel].message} provider is configured.` })
    }
  }

  /**
   * Throws AppError `service_unavailable` when the channel is off, or while its provider has been failing (its
   * circuit is open). Callers check it before any per-identifier work, so every identifier gets the same answer.
   */
  isAvailable (channel: Channel): boolean {
    return this.#options[channel] !== null && this.#breakers[channel].retryAfterMs() === 0
  }

  assertAvailable (channel: Channel): void {
    this.assertEnabled(channel)
    const waitMs = this.#breakers[channel].retryAfterMs()
    if (waitMs > 0) {
      throw new AppError('service_unavailable', { detail: `The ${WORDS[channel].message} provider is failing; try again shortly.`, retryAfter: Math.ceil(waitMs / 1000) })
    }
  }

  /**
   * Resolves once the provider (or the dev outbox) has accepted the message.
   * Throws AppError `invalid_destination` when the destination cannot receive messages, `delivery_failed` when
   * the provider refused or kept failing. On either, the caller withdraws the challenge: the code never arrived.
   */
  async deliverCode (request: DeliverCodeRequest): Promise<DeliveryResult> {
    this.assertEnabled(request.channel)
    const { email, sms } = this.#options
    const message = this.#codeMessage(request)
    if (request.channel === 'email') return this.#attempt(request, email as Route<EmailMessage>, message as EmailMessage)
    return this.#attempt(request, sms as Route<SmsMessage>, message as SmsMessage)
  }

  /**
   * What deliverCode costs a worker, without the network call: the message is rendered, then the worker waits as
   * long as the channel's provider was seen to take. For decoys (an identifier with no account), so that a process
   * that sends is as busy, for as long, whoever the code was for.
   */
  async rehearseCode (request: DeliverCodeRequest): Promise<void> {
    this.assertEnabled(request.channel)
    this.#codeMessage(request)
    await this.#sleep(this.#latencies[request.channel].draw())
  }

  #codeMessage (request: DeliverCodeRequest): EmailMessage | SmsMessage {
    const { appName, webOtpDomain } = this.#options
    const input = { locale: request.locale, appName, code: request.code, expiresInSeconds: request.expiresInSeconds }
    if (request.channel === 'email') return this.#codeEmail(request, input)
    return { to: request.to, text: renderCodeSms({ ...input, webOtpDomain }, this.templates) }
  }

  /** Our own message, and the provider's template with the same values when SENDGRID_TEMPLATE_ID names one. */
  #codeEmail (
    request: DeliverCodeRequest,
    input: { locale: string | null, appName: string, code: string, expiresInSeconds: number }
  ): EmailMessage {
    const { magicLinkUrl, providerTemplateFor } = this.#options
    // only a sign-in code can be verified by the sign-in page the link opens
    const link = magicLinkUrl !== undefined && request.purpose === 'login' && request.challengeId !== undefined
      ? magicLink(magicLinkUrl, request.challengeId, request.code)
      : null
    const templateId = providerTemplateFor?.(request.locale)
    const data = { code: input.code, minutes: minutesOf(input.expiresInSeconds), appName: input.appName, link }
    return {
      to: request.to,
      ...renderCodeEmail({ ...input, link }, this.templates),
      ...(templateId === undefined ? {} : { providerTemplate: { id: templateId, data } })
    }
  }

  /** Resolves once the provider (or the dev outbox) accepted the notice; throws as deliverCode does. */
  async deliverNotice (request: DeliverNoticeRequest): Promise<DeliveryResult> {
    const { notice, channel } = request
    // the renderer's `channel` is the identifier a notice is about (a masked email keeps its @), not its way out:
    // a phone added to an account is announced by email
    const about = notice.maskedIdentifier === undefined ? channel : notice.maskedIdentifier.includes('@') ? 'email' : 'sms'
    const input = { ...notice, locale: request.locale, appName: this.#options.appName, channel: about }
    this.assertEnabled(channel)
    const send = { ...request, code: '', purpose: notice.kind }
    const { email, sms } = this.#options
    if (channel === 'email') {
      return this.#attempt(send, email as Route<EmailMessage>, {
        to: request.to, ...renderNoticeEmail(input, this.templates)
      })
    }
    return this.#attempt(send, sms as Route<SmsMessage>, {
      to: request.to, text: renderNoticeSms(input, this.templates)
    })
  }

  async #attempt<Message> (request: SendRequest, route: Route<Message>, message: Message): Promise<DeliveryResult> {
    const { timeoutMs } = this.#options
    const retries = request.retries ?? this.#options.retries
    const logger = request.logger ?? this.#logger
    const started = performance.now()
    const context = {
      channel: request.channel,
      provider: route.provider,
      purpose: request.purpose,
      recipient: maskDestination(request.to)
    }
    const latencyMs = () => Math.round(performance.now() - started)
    for (let attempt = 1; ; attempt++) {
      try {
        const spanAttributes = { 'otp_gate.channel': request.channel, 'otp_gate.provider': route.provider, 'otp_gate.attempt': attempt }
        const { messageId } = await inClientSpan(`${route.provider} send`, spanAttributes, () => route.sender.send(message, request.code))
        this.#metrics.delivery(request.channel, route.provider, 'sent')
        this.#breakers[request.channel].recordSuccess()
        this.#latencies[request.channel].record(performance.now() - started)
        logger.info({ ...context, outcome: 'delivered', attempts: attempt, latencyMs: latencyMs(), messageId }, 'code delivered')
        return { provider: route.provider, messageId }
      } catch (error) {
        // anything but a DeliveryError is a bug in a sender: only its name is logged, it may hold the request
        const failure = isDeliveryError(error) ? error : undefined
        const kind = failure?.kind ?? 'rejected'
        const retryAfterMs = failure?.retryAfterMs ?? 0
        this.#metrics.delivery(request.channel, route.provider, kind)
        const waitMs = Math.max(backoffMs(attempt, RETRY_BACKOFF), retryAfterMs)
        // a Retry-After beyond the timeout budget is honoured by giving up, and passed on to the client
        const retry = kind === 'transient' && attempt <= retries && retryAfterMs <= timeoutMs
        const details = {
          ...context,
          attempts: attempt,
          latencyMs: latencyMs(),
          kind,
          providerStatus: failure?.providerStatus,
          error: failure?.message ?? (error instanceof Error ? error.name : typeof error)
        }
        if (retry) {
          logger.warn({ ...details, outcome: 'retrying', retryInMs: waitMs }, 'code delivery attempt failed')
          await this.#sleep(waitMs)
          continue
        }
        logger.warn({ ...details, outcome: 'failed' }, 'code delivery failed')
        // only the provider's own failures say anything about its health: a chosen destination must not open
        // the circuit for everyone
        if (isProviderFailure(failure)) this.#breakers[request.channel].recordFailure()
        throw this.#appError(request.channel, kind, failure)
      }
    }
  }

  #appError (channel: Channel, kind: DeliveryError['kind'], failure: DeliveryError | undefined): AppError {
    const words = WORDS[channel]
    if (kind === 'invalid_recipient') {
      return new AppError('invalid_destination', { detail: `This ${words.destination} cannot receive codes.`, cause: failure })
    }
    const retryAfterMs = failure?.retryAfterMs
    return new AppError('delivery_failed', {
      detail: kind === 'transient' ? `The ${words.message} provider is not answering; try again later.` : `The ${words.message} provider refused the message.`,
      cause: failure,
      ...(retryAfterMs === undefined ? {} : { retryAfter: Math.ceil(retryAfterMs / 1000) })
    })
  }
}

export interface DeliveryDeps {
  outbox: Outbox
  logger?: DeliveryLogger | undefined
  /** the backoff between attempts; tests inject one that does not wait */
  sleep?: ((ms: number) => Promise<void>) | undefined
  /** stamps outbox messages */
  now?: (() => Date) | undefined
  onCircuitOpen?: ((channel: Channel, until: number) => void) | undefined
  metrics?: Metrics | undefined
}

/**
 * The built-in templates under EMAIL_TEMPLATES_DIR's, with the branding, checked against this configuration: the
 * longest code and lockout, the magic link, and one GSM-7 segment per SMS while SMS is on (unless
 * SMS_ALLOW_MULTIPART). Throws TemplateError, one line naming the file, so the process does not start.
 */
export function createMessageTemplates (config: Config, smsOn: boolean): MessageTemplates {
  const magicLinkUrl = config.MAGIC_LINK_URL
  return loadMessageTemplates({
    dir: config.EMAIL_TEMPLATES_DIR,
    branding: {
      brandColor: config.BRAND_COLOR, logoUrl: config.BRAND_LOGO_URL ?? null, supportEmail: config.SUPPORT_EMAIL ?? null
    },
    checks: {
      appName: config.APP_NAME,
      codeLength: config.OTP_CODE_LENGTH,
      codeMinutes: minutesOf(config.OTP_TTL_SECONDS),
      throttleMinutes: minutesOf(config.OTP_THROTTLE_MAX_SECONDS),
      link: magicLinkUrl === undefined ? undefined : (code) => magicLink(magicLinkUrl, '0195f3c2-7d4e-7a61-9c1b-2f8e4d6a9b01', code),
      singleSegmentSms: smsOn && !config.SMS_ALLOW_MULTIPART,
      webOtpDomain: config.WEBOTP_DOMAIN
    }
  })
}

function emailRoute (config: Config, deps: DeliveryDeps): Route<EmailMessage> | null {
  const { SENDGRID_API_KEY: apiKey, EMAIL_FROM: from } = config
  const configured = apiKey !== undefined && from !== undefined
  if (config.DEV_OUTBOX || (!configured && isEmbedded(config))) {
    return { provider: 'outbox', sender: new OutboxSender(deps.outbox, 'email', deps.now) }
  }
  if (!configured) return null
  const sender = new SendGridSender({
    apiKey,
    from: { email: from, name: config.EMAIL_FROM_NAME ?? config.APP_NAME },
    baseUrl: config.SENDGRID_BASE_URL,
    timeoutMs: config.DELIVERY_TIMEOUT_MS
  })
  return { provider: 'sendgrid', sender }
}

function smsRoute (config: Config, deps: DeliveryDeps): Route<SmsMessage> | null {
  const { VONAGE_API_KEY: apiKey, VONAGE_API_SECRET: apiSecret, SMS_FROM: from } = config
  const configured = apiKey !== undefined && apiSecret !== undefined && from !== undefined
  if (config.DEV_OUTBOX || (!configured && isEmbedded(config))) {
    return { provider: 'outbox', sender: new OutboxSender(deps.outbox, 'sms', deps.now) }
  }
  if (!configured) return null
  const sender = new VonageSender({
    apiKey, apiSecret, from, baseUrl: config.VONAGE_BASE_URL, timeoutMs: config.DELIVERY_TIMEOUT_MS
  })
  return { provider: 'vonage', sender }
}

/**
 * Delivery from config. The dev outbox never switches itself on: it takes every channel with DEV_OUTBOX=true,
 * and, in the embedded mode only (no Redis, no MongoDB), the channels without a provider (email:
 * SENDGRID_API_KEY + EMAIL_FROM; SMS: VONAGE_API_KEY + VONAGE_API_SECRET + SMS_FROM). Anywhere else such a
 * channel is off. loadConfig refuses both DEV_OUTBOX and a missing provider in production.
 */
export function createDelivery (config: Config, deps: DeliveryDeps): Delivery {
  const { now } = deps
  const sms = smsRoute(config, deps)
  return new Delivery({
    email: emailRoute(config, deps),
    sms,
    appName: config.APP_NAME,
    webOtpDomain: config.WEBOTP_DOMAIN,
    templates: createMessageTemplates(config, sms !== null),
    magicLinkUrl: config.MAGIC_LINK_URL,
    providerTemplateFor: sendGridTemplateIds(config.SENDGRID_TEMPLATE_ID),
    retries: config.DELIVERY_RETRIES,
    timeoutMs: config.DELIVERY_TIMEOUT_MS,
    breaker: {
      threshold: config.DELIVERY_BREAKER_THRESHOLD,
      openMs: config.DELIVERY_BREAKER_OPEN_SECONDS * 1000,
      ...(now ? { now: () => now().getTime() } : {})
    },
    logger: deps.logger,
    sleep: deps.sleep,
    onCircuitOpen: deps.onCircuitOpen,
    metrics: deps.metrics
  })
}
