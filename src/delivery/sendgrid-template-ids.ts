import { languageOf } from './templates/render.ts'

/**
 * SENDGRID_TEMPLATE_ID: `d-…` for every language, or `en:d-…,fr:d-…` per language, or both (the bare id for the
 * languages not listed). Returns the dynamic template for a locale, or undefined: then our own body is sent.
 * A language without its own id and no bare id gets the English one, as our own templates fall back to English.
 */
export function sendGridTemplateIds (setting: string | undefined): (locale: string | null) => string | undefined {
  const byLanguage = new Map<string, string>()
  let fallback: string | undefined
  for (const item of (setting ?? '').split(',').map((entry) => entry.trim()).filter(Boolean)) {
    const [language, id] = item.includes(':') ? item.split(':') : [undefined, item]
    if (language === undefined) fallback = id
    else if (id !== undefined) byLanguage.set(language.toLowerCase(), id)
  }
  return (locale) => byLanguage.get(languageOf(locale)) ?? fallback ?? byLanguage.get('en')
}
