import type { CodeTemplate, TemplateValues } from './code-template.ts'
import type { EmailMessage } from '../senders.ts'
import type { NoticeKind } from '../notices.ts'
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

export interface NoticeMessageInput {
  kind: NoticeKind
  locale: string | null
  appName: string
  /** identifier_changed: which identifier changed (email or phone) */
  channel?: 'email' | 'sms'
  maskedIdentifier?: string
  minutes?: number
}

interface NoticeWords { subject: (input: NoticeMessageInput) => string, text: (input: NoticeMessageInput) => string }

// A stand-in until the notice templates land: one sentence per kind and language, GSM-7 safe for SMS.
const NOTICES: Record<string, Record<NoticeKind, NoticeWords>> = {
  en: {
    identifier_changed: {
      subject: ({ appName }) => `Your ${appName} account: sign-in changed`,
      text: ({ appName, maskedIdentifier }) => `Your ${appName} account can now be signed in to with ${maskedIdentifier ?? 'a new identifier'}. If this was not you, contact support at once.`
    },
    login_throttled: {
      subject: ({ appName }) => `Your ${appName} account: wrong codes`,
      text: ({ appName, minutes }) => `Several wrong codes were entered for your ${appName} account; sign-in is slowed down for ${minutes ?? 1} min.`
    }
  },
  fr: {
    identifier_changed: {
      subject: ({ appName }) => `Votre compte ${appName} : connexion modifiée`,
      text: ({ appName, maskedIdentifier }) => `Votre compte ${appName} accepte désormais la connexion avec ${maskedIdentifier ?? 'un nouvel identifiant'}. Si ce n'est pas vous, contactez le support sans attendre.`
    },
    login_throttled: {
      subject: ({ appName }) => `Votre compte ${appName} : codes erronés`,
      text: ({ appName, minutes }) => `Plusieurs codes erronés ont été saisis pour votre compte ${appName} ; la connexion est ralentie pendant ${minutes ?? 1} min.`
    }
  },
  de: {
    identifier_changed: {
      subject: ({ appName }) => `Ihr ${appName}-Konto: Anmeldung geändert`,
      text: ({ appName, maskedIdentifier }) => `Ihr ${appName}-Konto kann jetzt mit ${maskedIdentifier ?? 'einer neuen Kennung'} angemeldet werden. Waren Sie das nicht, wenden Sie sich sofort an den Support.`
    },
    login_throttled: {
      subject: ({ appName }) => `Ihr ${appName}-Konto: falsche Codes`,
      text: ({ appName, minutes }) => `Für Ihr ${appName}-Konto wurden mehrere falsche Codes eingegeben; die Anmeldung ist ${minutes ?? 1} Min. verlangsamt.`
    }
  }
}

const noticeWords = (input: NoticeMessageInput): NoticeWords => {
  const language = input.locale?.split(/[-_]/)[0]?.toLowerCase() ?? 'en'
  return (NOTICES[language] ?? NOTICES.en!)[input.kind]
}

/** A notice email (no code): the sentence as text, and escaped in a minimal HTML body. */
export function renderNoticeEmail (input: NoticeMessageInput): Omit<EmailMessage, 'to'> {
  const words = noticeWords(input)
  const text = words.text(input)
  const html = `<!doctype html>\n<html lang="${templateFor(input.locale).lang}">\n<body style="font-family: sans-serif; line-height: 1.5">\n<p>${escapeHtml(text)}</p>\n</body>\n</html>\n`
  return { subject: words.subject(input), text: `${text}\n`, html }
}

export function renderNoticeSms (input: NoticeMessageInput): string {
  return noticeWords(input).text(input)
}
