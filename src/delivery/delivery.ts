import { setTimeout as sleepFor } from 'node:timers/promises'
import type { Config } from '../config.ts'
import { AppError } from '../errors.ts'
import { isDeliveryError, type EmailMessage, type SmsMessage } from './senders.ts'
import { builtInTemplates, type MessageTemplates } from './templates/render.ts'
import type { NoticeContent } from './notices.ts'
import { codeMessage, createMessageTemplates, noticeMessage, type MessageSettings } from './delivery-messages.ts'
import { deliveryRoutes, type Provider, type Route, type RouteDeps } from './delivery-routes.ts'
import { sendGridTemplateIds } from './sendgrid-template-ids.ts'
import { maskDestination } from './mask.ts'
import { CircuitBreaker, isProviderFailure } from './circuit-breaker.ts'
import { LatencySample } from './latency-sample.ts'
import { NO_METRICS, type Metrics } from '../metrics/metrics.ts'
import { inClientSpan } from '../telemetry/spans.ts'

export type Channel = 'email' | 'sms'

export interface DeliverCodeRequest {
  channel: Channel
  /** normalised email, or E.164 phone number */
  to: string
  code: string
  /** the challenge the code answers, for the magic link; never logged with the code */
  challengeId?: string | undefined
  /**
   * Set while the destination's codes are suspended: the sign-in link's token, sent instead of the code (which is
   * then ''). Never logged.
   */
  linkToken?: string | undefined
  /** BCP 47, e.g. `fr-CA`; null or unknown gives English */
  locale: string | null
  purpose: string
  expiresInSeconds: number
  /** the logger of the job's handler; the Delivery's own logger otherwise */
  logger?: DeliveryLogger | undefined
  /** which try of its queued job this is (the queue retries), for logs and traces; 1 unless told */
  attempt?: number | undefined
}

/** A notice to send now (src/delivery/notices.ts): like a code request, with what it says instead of a code. */
export interface DeliverNoticeRequest extends Pick<DeliverCodeRequest, 'channel' | 'to' | 'locale' | 'logger' | 'attempt'> {
  notice: NoticeContent
  /** identifier_changed: the link that takes the change back (sealed in the job, never logged) */
  undoLink?: string
}

/** What one send needs to know, for a code or a notice; a notice has no code (''). */
type SendRequest = Pick<DeliverCodeRequest, 'channel' | 'to' | 'code' | 'purpose' | 'logger' | 'attempt'>

export interface DeliveryResult {
  provider: Provider
  messageId: string | null
}

export interface DeliveryLogger {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
}

export interface DeliveryOptions extends Omit<MessageSettings, 'templates'> {
  /** null: the channel is off (no provider, and no dev outbox), so every start for it answers 503 */
  email: Route<EmailMessage> | null
  sms: Route<SmsMessage> | null
  /** the built-in ones with the default branding when not given */
  templates?: MessageTemplates | undefined
  /** consecutive failed deliveries that open a channel's circuit, and for how long */
  breaker?: { threshold: number, openMs: number, now?: () => number } | undefined
  /** told when a channel's breaker opens itself, to share it with the other processes */
  onCircuitOpen?: ((channel: Channel, until: number) => void) | undefined
  logger?: DeliveryLogger | undefined
  /** how a rehearsal waits; tests inject one that does not */
  sleep?: ((ms: number) => Promise<void>) | undefined
  /** counts each provider attempt by outcome */
  metrics?: Metrics | undefined
}

const NO_LOGGER: DeliveryLogger = { info: () => {}, warn: () => {} }
const WORDS = { email: 'email', sms: 'SMS' }

/**
 * Renders a code message in the user's language and hands it to the channel's provider, once: the queue retries.
 * Logs carry the outcome, provider, attempt, latency and message id, and a masked destination: never the code or
 * the full destination.
 */
export class Delivery {
  /** which channels go to the dev outbox, so the HTTP layer knows whether to mount GET /v1/dev/outbox */
  readonly usesOutbox: { email: boolean, sms: boolean }
  /** channels with neither a provider nor the dev outbox */
  readonly offChannels: Channel[]
  /** what every message is rendered with: notices too, and the dev previews */
  readonly templates: MessageTemplates
  readonly #options: DeliveryOptions
  readonly #messages: MessageSettings
  readonly #logger: DeliveryLogger
  readonly #sleep: (ms: number) => Promise<void>
  readonly #breakers: Record<Channel, CircuitBreaker>
  readonly #latencies: Record<Channel, LatencySample> = { email: new LatencySample(), sms: new LatencySample() }
  readonly #metrics: Metrics

  constructor (options: DeliveryOptions) {
    this.#options = options
    this.templates = options.templates ?? builtInTemplates()
    this.#messages = { ...options, templates: this.templates }
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
      throw new AppError('service_unavailable', { detail: `Codes by ${WORDS[channel]} are switched off on this server: no ${WORDS[channel]} provider is configured.` })
    }
  }

  /**
   * Throws AppError `service_unavailable` when the channel is off, or while its provider has been failing (its
   * circuit is open). Callers check it before any per-identifier work, so every identifier gets the same answer.
   */
  assertAvailable (channel: Channel): void {
    this.assertEnabled(channel)
    const waitMs = this.#breakers[channel].retryAfterMs()
    if (waitMs > 0) {
      throw new AppError('service_unavailable', { detail: `The ${WORDS[channel]} provider is failing; try again shortly.`, retryAfter: Math.ceil(waitMs / 1000) })
    }
  }

  /**
   * Resolves once the provider (or the dev outbox) has accepted the message. Rejects with the sender's
   * DeliveryError (a bug in a sender: with what it threw), which the queue retries when transient.
   */
  async deliverCode (request: DeliverCodeRequest): Promise<DeliveryResult> {
    this.assertEnabled(request.channel)
    const { email, sms } = this.#options
    const message = codeMessage(request, this.#messages)
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
    codeMessage(request, this.#messages)
    await this.#sleep(this.#latencies[request.channel].draw())
  }

  /** Resolves once the provider (or the dev outbox) accepted the notice; throws as deliverCode does. */
  async deliverNotice (request: DeliverNoticeRequest): Promise<DeliveryResult> {
    this.assertEnabled(request.channel)
    const message = noticeMessage(request, this.#messages)
    const { undoLink: _secret, ...rest } = request
    const send = { ...rest, code: '', purpose: request.notice.kind }
    const { email, sms } = this.#options
    if (request.channel === 'email') return this.#attempt(send, email as Route<EmailMessage>, message as EmailMessage)
    return this.#attempt(send, sms as Route<SmsMessage>, message as SmsMessage)
  }

  async #attempt<Message> (request: SendRequest, route: Route<Message>, message: Message): Promise<DeliveryResult> {
    const logger = request.logger ?? this.#logger
    const attempt = request.attempt ?? 1
    const started = performance.now()
    const context = {
      channel: request.channel,
      provider: route.provider,
      purpose: request.purpose,
      recipient: maskDestination(request.to),
      attempt
    }
    const latencyMs = () => Math.round(performance.now() - started)
    try {
      const spanAttributes = { 'otp_gate.channel': request.channel, 'otp_gate.provider': route.provider, 'otp_gate.attempt': attempt }
      const { messageId } = await inClientSpan(`${route.provider} send`, spanAttributes, () => route.sender.send(message, request.code))
      this.#metrics.delivery(request.channel, route.provider, 'sent')
      this.#breakers[request.channel].recordSuccess()
      this.#latencies[request.channel].record(performance.now() - started)
      logger.info({ ...context, outcome: 'delivered', latencyMs: latencyMs(), messageId }, 'code delivered')
      return { provider: route.provider, messageId }
    } catch (error) {
      // anything but a DeliveryError is a bug in a sender: only its name is logged, it may hold the request
      const failure = isDeliveryError(error) ? error : undefined
      const kind = failure?.kind ?? 'rejected'
      this.#metrics.delivery(request.channel, route.provider, kind)
      logger.warn({
        ...context,
        outcome: 'failed',
        latencyMs: latencyMs(),
        kind,
        providerStatus: failure?.providerStatus,
        error: failure?.message ?? (error instanceof Error ? error.name : typeof error)
      }, 'code delivery failed')
      if (isProviderFailure(failure)) this.#breakers[request.channel].recordFailure()
      throw error
    }
  }
}

export interface DeliveryDeps extends RouteDeps, Pick<DeliveryOptions, 'logger' | 'sleep' | 'onCircuitOpen' | 'metrics'> {}

/** Delivery from config: the providers or the dev outbox of deliveryRoutes, the templates checked at start-up. */
export function createDelivery (config: Config, deps: DeliveryDeps): Delivery {
  const { now } = deps
  const { email, sms } = deliveryRoutes(config, deps)
  return new Delivery({
    email,
    sms,
    appName: config.APP_NAME,
    webOtpDomain: config.WEBOTP_DOMAIN,
    templates: createMessageTemplates(config, sms !== null),
    magicLinkUrl: config.MAGIC_LINK_URL,
    providerTemplateFor: sendGridTemplateIds(config.SENDGRID_TEMPLATE_ID),
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
