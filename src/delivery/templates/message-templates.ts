import type Handlebars from 'handlebars'
import { compileOptions, createHandlebars } from './handlebars-env.ts'
import type { Branding, CommonValues, KindValues, MessageKind, TemplatePart } from './message-kinds.ts'
import { messageKey, TemplateError, type TemplateFile, type TemplateFolder } from './template-files.ts'

export interface CompiledTemplate extends TemplateFile {
  language: string
  /** the language's writing direction, read once (an Intl.Locale per message costs more than the rendering) */
  direction: 'ltr' | 'rtl'
  part: TemplatePart
  ast: hbs.AST.Program
  render: Handlebars.TemplateDelegate
}

export interface RenderedEmail {
  subject: string
  text: string
  html: string
}

const FALLBACK_LANGUAGE = 'en'

/** `fr-CA`, `fr_ca` and `FR` all name French; null or empty names English. */
export const languageOf = (locale: string | null): string => locale?.split(/[-_]/)[0]?.toLowerCase() || FALLBACK_LANGUAGE

/** Black or white, whichever contrasts more with the colour (WCAG relative luminance). */
export function textColorOn (hex: string): string {
  const channels = [1, 3, 5].map((start) => Number.parseInt(hex.slice(start, start + 2), 16) / 255)
    .map((c) => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
  const luminance = 0.2126 * (channels[0] ?? 0) + 0.7152 * (channels[1] ?? 0) + 0.0722 * (channels[2] ?? 0)
  // contrast with white (1.05 / (L + 0.05)) against contrast with black ((L + 0.05) / 0.05)
  return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 ? '#fff' : '#000'
}

function direction (language: string): 'ltr' | 'rtl' {
  try {
    const info = (new Intl.Locale(language) as Intl.Locale & { getTextInfo?: () => { direction?: string } })
      .getTextInfo?.()
    return info?.direction === 'rtl' ? 'rtl' : 'ltr'
  } catch {
    return 'ltr'
  }
}

function compile (
  env: typeof Handlebars, template: TemplateFile, html: boolean
): { ast: hbs.AST.Program, render: Handlebars.TemplateDelegate } {
  let ast: hbs.AST.Program
  try {
    ast = env.parse(template.source)
  } catch (error) {
    // Handlebars quotes the line and draws an arrow under it: the first line and the expectation are enough
    const lines = (error as Error).message.split('\n')
    throw new TemplateError(template.file, [lines[0], lines.at(-1)].filter(Boolean).join(' '))
  }
  return { ast, render: env.compile(ast, compileOptions(html)) }
}

/** A folder's templates, compiled: what does not depend on the configuration, so it can be shared. */
export interface CompiledFolder {
  templates: Map<string, CompiledTemplate>
  languages: string[]
}

/** Compiles every template of the folder in a Handlebars environment of its own, with its partials. */
export function compileFolder (folder: TemplateFolder): CompiledFolder {
  const env = createHandlebars()
  for (const [name, partial] of folder.partials) env.registerPartial(name, compile(env, partial, true).render)
  const templates = new Map<string, CompiledTemplate>()
  for (const [language, files] of folder.messages) {
    for (const [key, file] of files) {
      const part = key.slice(key.lastIndexOf('.') + 1) as TemplatePart
      templates.set(`${language}/${key}`, {
        ...file, language, direction: direction(language), part, ...compile(env, file, part === 'html')
      })
    }
  }
  return { templates, languages: [...folder.messages.keys()].toSorted() }
}

/**
 * Every message template: the built-in ones, with those of EMAIL_TEMPLATES_DIR over them, and the branding they
 * all share. A language without a file of its own for some part uses the English one.
 */
export class MessageTemplates {
  /** languages with at least one template of their own */
  readonly languages: string[]
  readonly branding: Branding
  readonly #templates: Map<string, CompiledTemplate>
  /** the values every message has from the branding, worked out once */
  readonly #brand: Pick<CommonValues, keyof Branding | 'brandTextColor'>

  constructor (compiled: CompiledFolder, branding: Branding) {
    this.#templates = compiled.templates
    this.languages = compiled.languages
    this.branding = branding
    this.#brand = { ...branding, brandTextColor: textColorOn(branding.brandColor) }
  }

  /** The template a locale gets for one part: its language's, else the English one. */
  template (kind: MessageKind, part: TemplatePart, locale: string | null): CompiledTemplate {
    const key = messageKey(kind, part)
    const template = this.#templates.get(`${languageOf(locale)}/${key}`) ?? this.#templates.get(`${FALLBACK_LANGUAGE}/${key}`)
    if (!template) throw new TemplateError(`${FALLBACK_LANGUAGE}/${key}.hbs`, 'missing: every kind needs its English templates')
    return template
  }

  /** Every compiled template, for the checks at start-up. */
  all (): CompiledTemplate[] {
    return [...this.#templates.values()]
  }

  render<Kind extends MessageKind> (kind: Kind, part: TemplatePart, locale: string | null, values: KindValues[Kind], subject = ''): string {
    return this.renderTemplate(this.template(kind, part, locale), values, subject)
  }

  /** One template with its values and the branding; errors name the file. */
  renderTemplate (template: CompiledTemplate, values: object, subject = ''): string {
    const common: CommonValues = { ...this.#brand, lang: template.language, dir: template.direction, subject }
    let output: string
    try {
      output = template.render({ ...common, ...values })
    } catch (error) {
      throw new TemplateError(template.file, (error as Error).message)
    }
    if (template.part === 'subject') return output.replace(/\s+/g, ' ').trim()
    if (template.part === 'sms') return output.trim()
    if (template.part === 'text') return `${output.trimEnd()}\n`
    return output
  }

  renderEmail<Kind extends MessageKind> (kind: Kind, locale: string | null, values: KindValues[Kind]): RenderedEmail {
    const subject = this.render(kind, 'subject', locale, values)
    return { subject, text: this.render(kind, 'text', locale, values, subject), html: this.render(kind, 'html', locale, values, subject) }
  }

  renderSms<Kind extends MessageKind> (kind: Kind, locale: string | null, values: KindValues[Kind]): string {
    return this.render(kind, 'sms', locale, values)
  }
}
