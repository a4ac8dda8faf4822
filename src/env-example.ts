import { ConfigSchema } from './config.ts'

interface PropertySchema { description?: string, default?: unknown, enum?: unknown[], anyOf?: Array<{ const?: unknown }>, minimum?: number, maximum?: number }

function describe (schema: PropertySchema): string {
  const parts: string[] = []
  if (schema.description) parts.push(schema.description)
  const choices = schema.anyOf?.map((option) => option.const).filter((value) => value !== undefined)
  if (choices?.length) parts.push(`one of: ${choices.join(', ')}`)
  if (schema.minimum !== undefined || schema.maximum !== undefined) parts.push(`range: ${schema.minimum ?? ''}..${schema.maximum ?? ''}`)
  return parts.join('; ')
}

/** The text of .env.example: every variable of ConfigSchema, its meaning and its default. */
export function renderEnvExample (): string {
  const lines = ['# otp-gate configuration. Every variable is optional outside production; an empty value means the default.', '# Generated from src/config.ts by `node scripts/write-env-example.ts`: edit the schema, not this file.', '']
  for (const [name, property] of Object.entries(ConfigSchema.properties as Record<string, PropertySchema>)) {
    const about = describe(property)
    if (about) lines.push(`# ${about}`)
    const fallback = property.default
    lines.push(`${name}=${fallback === undefined ? '' : String(fallback)}`)
  }
  return lines.join('\n') + '\n'
}
