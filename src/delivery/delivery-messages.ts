import type { Config } from '../config.ts'
import type { DeliverCodeRequest, DeliverNoticeRequest } from './delivery.ts'
import type { EmailMessage, SmsMessage } from './senders.ts'
import {
  loadMessageTemplates, minutesOf, renderCodeEmail, renderCodeSms, renderNoticeEmail, renderNoticeSms,
  renderSignInLinkEmail, renderSignInLinkSms, type MessageTemplates
} from './templates/render.ts'
import { magicLink, SAMPLE_LINK_TOKEN, signInLink } from './magic-link.ts'

/** What every message is rendered with, beside its own request. */
export interface MessageSettings {
  appName: string
  webOtpDomain?: string | undefined
  templates: MessageTemplates
  /** MAGIC_LINK_URL: login code emails also carry `#challengeId=…&code=…` on it */
  magicLinkUrl?: string | undefined
  /** SENDGRID_TEMPLATE_ID: the provider's template for a locale, if any */
  providerTemplateFor?: ((locale: string | null) => string | undefined) | undefined
}

/** A code's message for its channel, in the user's language: an EmailMessage or an SmsMessage. */
export function codeMessage (request: DeliverCodeRequest, settings: MessageSettings): EmailMessage | SmsMessage {
  const { appName, webOtpDomain, templates } = settings
  if (request.linkToken !== undefined) return signInLinkMessage(request, request.linkToken, settings)
  const input = { locale: request.locale, appName, code: request.code, expiresInSeconds: request.expiresInSeconds }
  if (request.channel === 'email') return codeEmail(request, input, settings)
  return { to: request.to, text: renderCodeSms({ ...input, webOtpDomain }, templates) }
}

/**
 * The sign-in link sent instead of a code while the destination's codes are suspended (MAGIC_LINK_URL#token=…);
 * without MAGIC_LINK_URL the message says codes are paused. Never the provider's code template: it shows a code.
 */
function signInLinkMessage (
  request: DeliverCodeRequest, token: string, { appName, magicLinkUrl, templates }: MessageSettings
): EmailMessage | SmsMessage {
  const input = {
    locale: request.locale,
    appName,
    expiresInSeconds: request.expiresInSeconds,
    link: magicLinkUrl === undefined ? null : signInLink(magicLinkUrl, token)
  }
  if (request.channel === 'email') return { to: request.to, ...renderSignInLinkEmail(input, templates) }
  return { to: request.to, text: renderSignInLinkSms(input, templates) }
}

/** Our own message, and the provider's template with the same values when SENDGRID_TEMPLATE_ID names one. */
function codeEmail (
  request: DeliverCodeRequest,
  input: { locale: string | null, appName: string, code: string, expiresInSeconds: number },
  { magicLinkUrl, providerTemplateFor, templates }: MessageSettings
): EmailMessage {
  // only a sign-in code can be verified by the sign-in page the link opens
  const link = magicLinkUrl !== undefined && request.purpose === 'login' && request.challengeId !== undefined
    ? magicLink(magicLinkUrl, request.challengeId, request.code)
    : null
  const templateId = providerTemplateFor?.(request.locale)
  const data = { code: input.code, minutes: minutesOf(input.expiresInSeconds), appName: input.appName, link }
  return {
    to: request.to,
    ...renderCodeEmail({ ...input, link }, templates),
    ...(templateId === undefined ? {} : { providerTemplate: { id: templateId, data } })
  }
}

/** A notice's message for its channel, in the user's language. */
export function noticeMessage (request: DeliverNoticeRequest, settings: MessageSettings): EmailMessage | SmsMessage {
  const { notice, channel } = request
  // the renderer's `channel` is the identifier a notice is about (a masked email keeps its @), not its way out:
  // a phone added to an account is announced by email
  const about = notice.maskedIdentifier === undefined ? channel : notice.maskedIdentifier.includes('@') ? 'email' : 'sms'
  const undoLink = request.undoLink ?? null
  const input = { ...notice, locale: request.locale, appName: settings.appName, channel: about, undoLink }
  if (channel === 'email') return { to: request.to, ...renderNoticeEmail(input, settings.templates) }
  return { to: request.to, text: renderNoticeSms(input, settings.templates) }
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
      signInLink: magicLinkUrl === undefined ? undefined : signInLink(magicLinkUrl, SAMPLE_LINK_TOKEN),
      singleSegmentSms: smsOn && !config.SMS_ALLOW_MULTIPART,
      webOtpDomain: config.WEBOTP_DOMAIN
    }
  })
}
