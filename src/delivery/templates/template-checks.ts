import Handlebars from 'handlebars'
import { smsSegments } from '../gsm7.ts'
import { COMMON_VARIABLES, MESSAGE_KINDS, sampleValues, VARIABLES, type MessageKind, type SampleSettings } from './message-kinds.ts'
import type { CompiledTemplate, MessageTemplates } from './message-templates.ts'
import { TemplateError } from './template-files.ts'

export interface TemplateCheckSettings extends SampleSettings {
  /** check the SMS parts fit one GSM-7 segment (the SMS channel is on and SMS_ALLOW_MULTIPART is false) */
  singleSegmentSms: boolean
  /** the Web OTP line appended to code SMS, which counts toward the segment */
  webOtpDomain?: string | undefined
}

// helpers change the context inside these blocks, so names there are left to the strict render
const CONTEXT_HELPERS = new Set(['each', 'with'])

/** The fields of Handlebars' AST nodes this check reads (statements, expressions, paths). */
interface Node {
  type: string
  body?: Node[]
  path?: Node
  params?: Node[]
  hash?: { pairs: Array<{ value: Node }> }
  program?: Node | null
  inverse?: Node | null
  data?: boolean
  depth?: number
  parts?: string[]
  original?: string
  loc?: hbs.AST.SourceLocation
  /** false for `{{{value}}}`, which Handlebars leaves unescaped */
  escaped?: boolean
}

const at = (node: Node) => `${node.loc?.start.line}:${(node.loc?.start.column ?? 0) + 1}`

/**
 * Names the template uses that its kind does not offer (`"lnk" at 3:12`), and in HTML any `{{{value}}}`, which
 * would skip the escaping.
 */
function astProblems (template: CompiledTemplate, known: ReadonlySet<string>): { unknown: string[], raw: string[] } {
  const found: string[] = []
  const raw: string[] = []
  const checkPath = (path: Node) => {
    const head = path.parts?.[0]
    const original = path.original ?? ''
    if (path.data || (path.depth ?? 0) > 0 || head === undefined || original.startsWith('this') || known.has(head)) return
    found.push(`"${original}" at ${at(path)}`)
  }
  const visit = (node: Node | null | undefined): void => {
    if (!node) return
    if (node.type === 'Program') return node.body?.forEach(visit)
    if (node.type === 'PathExpression') return checkPath(node)
    if (node.type === 'MustacheStatement' && node.escaped === false) raw.push(`{{{${node.path?.original ?? ''}}}} at ${at(node)}`)
    if (node.type === 'SubExpression' || node.type === 'MustacheStatement' || node.type === 'BlockStatement') {
      const call = node.type !== 'MustacheStatement' || (node.params?.length ?? 0) > 0 || (node.hash?.pairs.length ?? 0) > 0
      if (!call) visit(node.path)
      node.params?.forEach(visit)
      node.hash?.pairs.forEach((pair) => visit(pair.value))
      if (node.type === 'BlockStatement' && !CONTEXT_HELPERS.has(node.path?.original ?? '')) {
        visit(node.program)
        visit(node.inverse)
      }
      return
    }
    if (node.type === 'PartialStatement' || node.type === 'PartialBlockStatement') {
      node.params?.forEach(visit)
      node.hash?.pairs.forEach((pair) => visit(pair.value))
      visit(node.program)
    }
  }
  visit(template.ast as unknown as Node)
  return { unknown: found, raw }
}

/** Where a template falls short of its kind, if it does; every variant of the sample values is rendered. */
function problemOf (
  templates: MessageTemplates, template: CompiledTemplate, kind: MessageKind, settings: TemplateCheckSettings
): string | null {
  const known = new Set([...VARIABLES[kind], ...COMMON_VARIABLES])
  const { unknown, raw } = astProblems(template, known)
  if (unknown.length > 0) return `unknown variable ${unknown.join(', ')}; this template can use ${[...known].join(', ')}`
  if (raw.length > 0 && template.part === 'html') return `unescaped output ${raw.join(', ')}: use two braces, the engine escapes for HTML`
  for (const values of sampleValues(kind, settings)) {
    const output = templates.renderTemplate(template, values, 'Subject')
    if (kind === 'sign_in_link' && template.part !== 'subject') {
      const { link } = values as { link: string | null }
      const shown = template.part === 'html' ? Handlebars.escapeExpression(link ?? '') : link
      if (link !== null && !output.includes(shown ?? '')) return 'the message must carry the sign-in link: add {{link}} (inside {{#if link}})'
      continue
    }
    if (kind === 'identifier_changed' && template.part !== 'subject') {
      const { undoLink } = values as { undoLink: string | null }
      const shown = template.part === 'html' ? Handlebars.escapeExpression(undoLink ?? '') : undoLink
      if (undoLink !== null && !output.includes(shown ?? '')) return 'the notice must carry the undo link: add {{undoLink}} (inside {{#if undoLink}})'
      continue
    }
    if (kind !== 'code' || template.part === 'subject') continue
    const { code, link } = values as { code: string, link: string | null }
    if (!output.includes(code)) return 'the message must show the code: add {{code}}'
    const shownLink = template.part === 'html' ? Handlebars.escapeExpression(link ?? '') : link
    if (link !== null && template.part !== 'sms' && !output.includes(shownLink ?? '')) {
      return 'MAGIC_LINK_URL is set, so the email must carry the link: add {{link}} (inside {{#if link}})'
    }
  }
  return null
}

/**
 * A sign-in link or an undo link does not fit one segment with any wording: those rare messages may take two.
 * (A code's magic link is never in its SMS.)
 */
const carriesLink = (kind: MessageKind, values: object) =>
  (kind === 'sign_in_link' && (values as { link: string | null }).link !== null) ||
  (kind === 'identifier_changed' && (values as { undoLink: string | null }).undoLink !== null)

/** Segments of the longest SMS the template can produce with this configuration. */
function smsProblem (
  templates: MessageTemplates, template: CompiledTemplate, kind: MessageKind, settings: TemplateCheckSettings
): string | null {
  for (const values of sampleValues(kind, settings)) {
    if (carriesLink(kind, values)) continue
    let text = templates.renderTemplate(template, values)
    if (kind === 'code' && settings.webOtpDomain !== undefined) text += `\n\n@${settings.webOtpDomain} #${(values as { code: string }).code}`
    const { encoding, units, segments } = smsSegments(text)
    if (encoding === 'UCS-2') return `the SMS needs UCS-2 (a character outside GSM-7), so one part holds only 70 characters: "${text}"; set SMS_ALLOW_MULTIPART=true to accept that`
    if (segments > 1) return `the SMS takes ${units} GSM-7 characters, ${segments} segments (one holds 160): "${text}"; shorten it or set SMS_ALLOW_MULTIPART=true`
  }
  return null
}

/**
 * Checks every template a message can be rendered from, as it will be used: no unknown variable, the code (and
 * the magic link when on) shown, each branch renders, and each SMS fits one GSM-7 segment unless allowed.
 * Throws TemplateError naming the first file that fails.
 */
export function checkTemplates (templates: MessageTemplates, settings: TemplateCheckSettings): void {
  for (const language of templates.languages) {
    for (const kind of MESSAGE_KINDS) {
      for (const part of ['subject', 'text', 'html', 'sms'] as const) {
        const template = templates.template(kind, part, language)
        const problem = problemOf(templates, template, kind, settings) ??
          (part === 'sms' && settings.singleSegmentSms ? smsProblem(templates, template, kind, settings) : null)
        if (problem) throw new TemplateError(template.file, problem)
      }
    }
  }
}
