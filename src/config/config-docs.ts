import { CONFIG_GROUPS } from './settings.ts'

/** The documentation of every setting, generated from the one schema, so it never drifts from what is validated. */

interface PropertySchema {
  description?: string
  default?: unknown
  anyOf?: Array<{ const?: unknown }>
  minimum?: number
  maximum?: number
  '~optional'?: boolean
}

const properties = (group: object) => Object.entries(group as Record<string, PropertySchema>)

function describe (schema: PropertySchema): string {
  const parts: string[] = []
  if (schema.description) parts.push(schema.description)
  const choices = schema.anyOf?.map((option) => option.const).filter((value) => value !== undefined)
  if (choices?.length) parts.push(`one of: ${choices.join(', ')}`)
  if (schema.minimum !== undefined || schema.maximum !== undefined) parts.push(`range: ${schema.minimum ?? ''}..${schema.maximum ?? ''}`)
  return parts.join('; ')
}

/** The text of .env.example: every variable of ConfigSchema by group, its meaning and its default. */
export function renderEnvExample (): string {
  const lines = [
    '# otp-gate configuration. Every variable is optional outside production; an empty value means the default.',
    '# Generated from src/config/settings.ts by `npm run config-docs`: edit the schema, not this file.'
  ]
  for (const [group, settings] of Object.entries(CONFIG_GROUPS)) {
    lines.push('', `# --- ${group} ---`)
    for (const [name, property] of properties(settings)) {
      const about = describe(property)
      if (about) lines.push(`# ${about}`)
      lines.push(`${name}=${property.default === undefined ? '' : String(property.default)}`)
    }
  }
  return lines.join('\n') + '\n'
}

const TABLE_START = '<!-- config-table:start (generated from src/config/settings.ts by `npm run config-docs`) -->'
const TABLE_END = '<!-- config-table:end -->'

function defaultOf (property: PropertySchema): string {
  if (property.default === undefined) return 'unset'
  if (property.default === '') return 'empty'
  return `\`${String(property.default)}\``
}

/** The configuration tables of docs/configuration.md, one per group. */
export function renderConfigTables (): string {
  const sections = Object.entries(CONFIG_GROUPS).map(([group, settings]) => [
    `## ${group}`,
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...properties(settings).map(([name, property]) => `| \`${name}\` | ${defaultOf(property)} | ${describe(property).replace(/\|/g, '\\|')} |`)
  ].join('\n'))
  return [TABLE_START, '', sections.join('\n\n'), '', TABLE_END].join('\n')
}

/** A page (docs/configuration.md) with its configuration tables replaced by freshly generated ones. */
export function withConfigTables (page: string): string {
  const start = page.indexOf(TABLE_START)
  const end = page.indexOf(TABLE_END)
  if (start === -1 || end < start) throw new Error('the page has no config-table markers')
  return page.slice(0, start) + renderConfigTables() + page.slice(end + TABLE_END.length)
}
