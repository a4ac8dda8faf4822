/**
 * What a message is about: a one-time code, the sign-in link sent instead of a code while the destination's codes
 * are suspended, or a security notice.
 */
export const MESSAGE_KINDS = ['code', 'sign_in_link', 'identifier_changed', 'login_throttled', 'authenticator_added', 'account_deleted', 'authenticator_removed', 'passkey_added'] as const
export type MessageKind = typeof MESSAGE_KINDS[number]

/** The files of one kind in one language: `<kind>.<part>.hbs`. Email is subject + text + html; SMS is sms. */
export const TEMPLATE_PARTS = ['subject', 'text', 'html', 'sms'] as const
export type TemplatePart = typeof TEMPLATE_PARTS[number]

/** The values each kind is rendered with, beside the branding every template gets. */
export interface KindValues {
  code: { appName: string, code: string, minutes: number, link: string | null }
  /** link is null without MAGIC_LINK_URL: the message then says codes are paused */
  sign_in_link: { appName: string, minutes: number, link: string | null }
  /** undoLink: valid `days`, once; null when the notice goes to an identifier that was not replaced */
  identifier_changed: { appName: string, channel: 'email' | 'sms', maskedIdentifier: string, undoLink: string | null, days: number }
  login_throttled: { appName: string, minutes: number }
  authenticator_added: { appName: string, days: number }
  account_deleted: { appName: string }
  authenticator_removed: { appName: string }
  passkey_added: { appName: string }
}

/** From config, the same in every message. */
export interface Branding {
  /** #rrggbb */
  brandColor: string
  logoUrl: string | null
  supportEmail: string | null
}

/** What a template can name: its kind's values, the branding, and these. */
export interface CommonValues extends Branding {
  /** black or white, whichever reads better on brandColor */
  brandTextColor: string
  /** the language the template is written in, e.g. `fr`, and its direction */
  lang: string
  dir: 'ltr' | 'rtl'
  /** the rendered subject, for the HTML title; empty while the subject itself renders */
  subject: string
}

export const VARIABLES: Record<MessageKind, readonly string[]> = {
  code: ['appName', 'code', 'minutes', 'link'],
  sign_in_link: ['appName', 'minutes', 'link'],
  identifier_changed: ['appName', 'channel', 'maskedIdentifier', 'undoLink', 'days'],
  login_throttled: ['appName', 'minutes'],
  authenticator_added: ['appName', 'days'],
  account_deleted: ['appName'],
  authenticator_removed: ['appName'],
  passkey_added: ['appName']
}

export const COMMON_VARIABLES: readonly string[] = ['brandColor', 'brandTextColor', 'logoUrl', 'supportEmail', 'lang', 'dir', 'subject']

/**
 * Values to render every template with at start-up, and in previews: each kind in each of its variants (with and
 * without a link, each channel), so no branch of a template goes unchecked.
 */
export function sampleValues<Kind extends MessageKind> (kind: Kind, sample: SampleSettings): Array<KindValues[Kind]> {
  const { appName } = sample
  const code = '0123456789'.repeat(2).slice(0, sample.codeLength)
  const variants: { [K in MessageKind]: Array<KindValues[K]> } = {
    code: [
      { appName, code, minutes: sample.codeMinutes, link: sample.link?.(code) ?? null },
      { appName, code, minutes: 1, link: null }
    ],
    sign_in_link: [
      { appName, minutes: sample.codeMinutes, link: sample.signInLink ?? null },
      { appName, minutes: 1, link: null }
    ],
    identifier_changed: [
      { appName, channel: 'email', maskedIdentifier: 'j***@example-company.com', undoLink: null, days: 7 },
      { appName, channel: 'sms', maskedIdentifier: '+44*******0123', undoLink: null, days: 7 },
      { appName, channel: 'email', maskedIdentifier: 'j***@example-company.com', undoLink: UNDO_LINK_SAMPLE, days: 7 },
      { appName, channel: 'sms', maskedIdentifier: '+44*******0123', undoLink: UNDO_LINK_SAMPLE, days: 7 }
    ],
    login_throttled: [{ appName, minutes: sample.throttleMinutes }, { appName, minutes: 1 }],
    authenticator_added: [{ appName, days: 7 }, { appName, days: 1 }],
    account_deleted: [{ appName }],
    authenticator_removed: [{ appName }],
    passkey_added: [{ appName }]
  }
  return variants[kind] as Array<KindValues[Kind]>
}

// as long as the links IdentifierUndoLinks makes: a long page URL and a 43-character token
const UNDO_LINK_SAMPLE = `https://accounts.example-company.com/account/undo-change#token=${'x'.repeat(43)}`

export interface SampleSettings {
  appName: string
  /** digits of a code */
  codeLength: number
  /** the longest a code is announced for, and a lockout */
  codeMinutes: number
  throttleMinutes: number
  /** the magic link of a code, when they are on */
  link?: ((code: string) => string) | undefined
  /** a sign-in link (MAGIC_LINK_URL#token=…), when they are on */
  signInLink?: string | undefined
}
