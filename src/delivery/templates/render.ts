import type { EmailMessage } from '../senders.ts'
import type { Branding, KindValues } from './message-kinds.ts'
import { compileFolder, MessageTemplates, type CompiledFolder, type RenderedEmail } from './message-templates.ts'
import { BUILT_IN_DIR, overlay, readTemplateFolder } from './template-files.ts'
import { checkTemplates, type TemplateCheckSettings } from './template-checks.ts'

export { languageOf, MessageTemplates, type RenderedEmail } from './message-templates.ts'
export { TemplateError } from './template-files.ts'

/** The branding of an unconfigured server: BRAND_COLOR's default, no logo, no support address. */
export const DEFAULT_BRANDING: Branding = { brandColor: '#1d4ed8', logoUrl: null, supportEmail: null }

export interface LoadTemplatesOptions {
  /** EMAIL_TEMPLATES_DIR: its files replace the built-in ones of the same name */
  dir?: string | undefined
  branding: Branding
  /** checked at once when given: a broken template throws TemplateError, one line naming its file */
  checks?: TemplateCheckSettings | undefined
}

/** The templates a server renders with: built-in, overlaid by EMAIL_TEMPLATES_DIR, compiled and checked once. */
export function loadMessageTemplates (options: LoadTemplatesOptions): MessageTemplates {
  const compiled = options.dir === undefined
    ? compiledBuiltIn()
    : compileFolder(overlay(readTemplateFolder(BUILT_IN_DIR), readTemplateFolder(options.dir)))
  const templates = new MessageTemplates(compiled, options.branding)
  if (options.checks) checkTemplates(templates, options.checks)
  return templates
}

// the built-in files do not change while the process runs: read and compiled once, whatever the branding
let builtInFolder: CompiledFolder | undefined
const compiledBuiltIn = (): CompiledFolder => (builtInFolder ??= compileFolder(readTemplateFolder(BUILT_IN_DIR)))

let builtIn: MessageTemplates | undefined
/** The built-in templates with the default branding, read once. */
export const builtInTemplates = (): MessageTemplates =>
  (builtIn ??= loadMessageTemplates({ branding: DEFAULT_BRANDING }))

export interface CodeMessageInput {
  locale: string | null
  appName: string
  code: string
  expiresInSeconds: number
  /** the magic link of this code (MAGIC_LINK_URL#challengeId=…&code=…), email only */
  link?: string | null | undefined
}

// a code that lives 90 s is announced as 2 minutes: never shorter than the truth
export const minutesOf = (seconds: number): number => Math.max(1, Math.ceil(seconds / 60))

export const codeValues = (input: CodeMessageInput): KindValues['code'] =>
  ({ appName: input.appName, code: input.code, minutes: minutesOf(input.expiresInSeconds), link: input.link ?? null })

export function renderCodeEmail (input: CodeMessageInput, templates = builtInTemplates()): Omit<EmailMessage, 'to'> {
  return templates.renderEmail('code', input.locale, codeValues(input))
}

/**
 * The SMS text. With a Web OTP domain the last line is `@domain #code`, which lets browsers offer the code
 * to the page on that domain (https://wicg.github.io/web-otp/#sms).
 */
export function renderCodeSms (
  input: CodeMessageInput & { webOtpDomain: string | undefined }, templates = builtInTemplates()
): string {
  const text = templates.renderSms('code', input.locale, { ...codeValues(input), link: null })
  return input.webOtpDomain === undefined ? text : `${text}\n\n@${input.webOtpDomain} #${input.code}`
}

/** The sign-in link sent instead of a code while the destination's codes are suspended; null without MAGIC_LINK_URL. */
export interface SignInLinkInput {
  locale: string | null
  appName: string
  expiresInSeconds: number
  link: string | null
}

const signInLinkValues = (input: SignInLinkInput): KindValues['sign_in_link'] =>
  ({ appName: input.appName, minutes: minutesOf(input.expiresInSeconds), link: input.link })

export function renderSignInLinkEmail (input: SignInLinkInput, templates = builtInTemplates()): Omit<EmailMessage, 'to'> {
  return templates.renderEmail('sign_in_link', input.locale, signInLinkValues(input))
}

export function renderSignInLinkSms (input: SignInLinkInput, templates = builtInTemplates()): string {
  return templates.renderSms('sign_in_link', input.locale, signInLinkValues(input))
}

export interface NoticeInput {
  kind: 'identifier_changed' | 'login_throttled' | 'authenticator_added' | 'account_deleted' | 'authenticator_removed' | 'passkey_added'
  locale: string | null
  appName: string
  /** identifier_changed: which identifier changed; the notice goes to the old one */
  channel?: 'email' | 'sms'
  /** identifier_changed: the new identifier, masked (maskDestination) */
  maskedIdentifier?: string
  /** identifier_changed: the link that takes the change back, when the notice goes to the replaced identifier */
  undoLink?: string | null
  /** login_throttled: until the next try is accepted */
  minutes?: number
  /** authenticator_added: how long the owner can remove it with a code to their email or phone */
  days?: number
}

type NoticeValues = KindValues['identifier_changed'] | KindValues['login_throttled'] | KindValues['authenticator_added'] |
  KindValues['account_deleted'] | KindValues['authenticator_removed'] | KindValues['passkey_added']

function noticeValues (input: NoticeInput): NoticeValues {
  if (input.kind === 'account_deleted' || input.kind === 'authenticator_removed' || input.kind === 'passkey_added') return { appName: input.appName }
  if (input.kind === 'login_throttled') {
    if (input.minutes === undefined) throw new TypeError('a login_throttled notice needs minutes')
    return { appName: input.appName, minutes: Math.max(1, Math.ceil(input.minutes)) }
  }
  if (input.kind === 'authenticator_added') {
    if (input.days === undefined) throw new TypeError('an authenticator_added notice needs days')
    return { appName: input.appName, days: input.days }
  }
  if (input.channel === undefined || input.maskedIdentifier === undefined) throw new TypeError('an identifier_changed notice needs channel and maskedIdentifier')
  const { appName, channel, maskedIdentifier } = input
  return { appName, channel, maskedIdentifier, undoLink: input.undoLink ?? null, days: input.days ?? 0 }
}

/**
 * A security notice as an email. Pass the server's templates (`delivery.templates`) so EMAIL_TEMPLATES_DIR and
 * the branding apply; without them, the built-in templates and the default branding.
 */
export function renderNoticeEmail (input: NoticeInput, templates = builtInTemplates()): RenderedEmail {
  return templates.renderEmail(input.kind, input.locale, noticeValues(input) as never)
}

/** A security notice as an SMS (one GSM-7 segment, checked at start-up); templates as for renderNoticeEmail. */
export function renderNoticeSms (input: NoticeInput, templates = builtInTemplates()): string {
  return templates.renderSms(input.kind, input.locale, noticeValues(input) as never)
}
