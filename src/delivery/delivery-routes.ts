import { isEmbedded, type Config } from '../config.ts'
import type { EmailMessage, SentMessage, SmsMessage } from './senders.ts'
import type { Outbox } from './outbox.ts'
import { OutboxSender } from './outbox-sender.ts'
import { SendGridSender } from './sendgrid-sender.ts'
import { VonageSender } from './vonage-sender.ts'

export type Provider = 'sendgrid' | 'vonage' | 'outbox'

/** A sender as Delivery drives it: EmailSender and SmsSender fit (they ignore the code); OutboxSender records it. */
export interface CodeSender<Message> {
  send (message: Message, code: string): Promise<SentMessage>
}

/** A channel's way out: its provider's sender, or the dev outbox. */
export interface Route<Message> {
  provider: Provider
  sender: CodeSender<Message>
}

export interface DeliveryRoutes {
  /** null: the channel is off */
  email: Route<EmailMessage> | null
  sms: Route<SmsMessage> | null
}

export interface RouteDeps {
  outbox: Outbox
  /** stamps outbox messages */
  now?: (() => Date) | undefined
}

/**
 * Where each channel's messages go, from config. The dev outbox never switches itself on: it takes every channel
 * with DEV_OUTBOX=true, and, in the embedded mode only (no Redis, no MongoDB), the channels without a provider
 * (email: SENDGRID_API_KEY + EMAIL_FROM; SMS: VONAGE_API_KEY + VONAGE_API_SECRET + SMS_FROM). Anywhere else such a
 * channel is off. loadConfig refuses both DEV_OUTBOX and a missing provider in production.
 */
export function deliveryRoutes (config: Config, deps: RouteDeps): DeliveryRoutes {
  return { email: emailRoute(config, deps), sms: smsRoute(config, deps) }
}

function emailRoute (config: Config, deps: RouteDeps): Route<EmailMessage> | null {
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

function smsRoute (config: Config, deps: RouteDeps): Route<SmsMessage> | null {
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
