import Handlebars from 'handlebars'

type HelperOptions = Handlebars.HelperOptions & { data: { root: { lang?: string } } }

// an Intl.PluralRules takes tens of µs to build and a message renders several plurals: one per language, kept
// (the languages are the templates' own, a handful)
const pluralRules = new Map<string, Intl.PluralRules>()
const pluralRulesOf = (language: string): Intl.PluralRules => {
  let rules = pluralRules.get(language)
  if (rules === undefined) pluralRules.set(language, rules = new Intl.PluralRules(language))
  return rules
}

/**
 * `{{plural minutes one="# minute" other="# minutes"}}`: the form of the template's language (Intl.PluralRules:
 * zero, one, two, few, many, other), `#` replaced by the number; `other` when a form is not given.
 */
function plural (count: unknown, options: HelperOptions): string {
  const number = Number(count)
  const forms = options.hash as Record<string, unknown>
  const category = pluralRulesOf(options.data.root.lang ?? 'en').select(number)
  return String(forms[category] ?? forms.other ?? '').replaceAll('#', String(number))
}

/** `{{select channel email="email address" sms="phone number"}}`: the text for the value, `other` otherwise. */
function select (value: unknown, options: HelperOptions): string {
  const choices = options.hash as Record<string, unknown>
  return String(choices[String(value)] ?? choices.other ?? '')
}

export const HELPERS = { plural, select }

/**
 * Our templates are logic-less: unknown names throw (strict), and only Handlebars' built-in helpers and ours run.
 * HTML parts escape every `{{value}}`; text, subject and SMS parts are plain text and escape nothing.
 */
export const compileOptions = (html: boolean): CompileOptions => ({
  strict: true,
  knownHelpers: { plural: true, select: true },
  knownHelpersOnly: true,
  noEscape: !html
})

/** A Handlebars environment of its own: our helpers, and no global partial or helper another module registered. */
export function createHandlebars (): typeof Handlebars {
  const env = Handlebars.create()
  env.registerHelper(HELPERS as unknown as Record<string, Handlebars.HelperDelegate>)
  return env
}
