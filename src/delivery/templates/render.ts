import type { CodeTemplate, TemplateValues } from './code-template.ts'
import type { EmailMessage } from '../senders.ts'
import { en } from './en.ts'
import { fr } from './fr.ts'
import { de } from './de.ts'

const TEMPLATES: Record<string, CodeTemplate> = { en, fr, de }

export const SUPPORTED_LANGUAGES = Object.keys(TEMPLATES)

/** `fr-CA`, `fr_ca` and `FR` all pick French; anything unknown (or no locale) picks English. */
export function templateFor (locale: string | null): CodeTemplate {
  const language = locale?.split(/[-_]/)[0]?.toLowerCase() ?? 'en'
  return TEMPLATES[language] ?? en
}

export interface CodeMessageInput {
  locale: string | null
  appName: string
  code: string
  expiresInSeconds: number
}

const valuesOf = (input: CodeMessageInput): TemplateValues => ({
  appName: input.appName,
  code: input.code,
  // a code that lives 90 s is announced as 2 minutes: never shorter than the truth
  minutes: Math.max(1, Math.ceil(input.expiresInSeconds / 60))
})

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character)

export function renderCodeEmail (input: CodeMessageInput): Omit<EmailMessage, 'to'> {
  const template = templateFor(input.locale)
  const values = valuesOf(input)
  const safe = { ...values, appName: escapeHtml(values.appName), code: escapeHtml(values.code) }
  const text = `${template.intro(values)}\n\n${values.code}\n\n${template.expiry(values)}\n\n${template.ignore}\n`
  const html = `<!doctype html>
<html lang="${template.lang}">
<body style="font-family: sans-serif; line-height: 1.5">
<p>${template.intro(safe)}</p>
<p style="font-size: 28px; font-weight: bold; letter-spacing: 4px">${safe.code}</p>
<p>${template.expiry(safe)}</p>
<p style="color: #666">${escapeHtml(template.ignore)}</p>
</body>
</html>
`
  return { subject: template.subject(values), text, html }
}

/**
 * The SMS text. With a Web OTP domain the last line is `@domain #code`, which lets browsers offer the code
 * to the page on that domain (https://wicg.github.io/web-otp/#sms).
 */
export function renderCodeSms (input: CodeMessageInput & { webOtpDomain: string | undefined }): string {
  const text = templateFor(input.locale).sms(valuesOf(input))
  return input.webOtpDomain === undefined ? text : `${text}\n\n@${input.webOtpDomain} #${input.code}`
}
