import { AppError } from '../errors.ts'
import type { Metadata } from './user-repository.ts'

/** The largest appMetadata or userMetadata, as UTF-8 JSON: it rides in every access token. */
export const METADATA_MAX_BYTES = 2048

/** The first key, at any depth, that MongoDB would read as an operator (`$…`) or a path (`a.b`), or null. */
function badKey (value: unknown): string | null {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = badKey(item)
      if (found !== null) return found
    }
    return null
  }
  if (value === null || typeof value !== 'object') return null
  for (const [key, member] of Object.entries(value)) {
    if (key.startsWith('$') || key.includes('.')) return key
    const found = badKey(member)
    if (found !== null) return found
  }
  return null
}

/** `value` as metadata, or a 400 validation_failed naming the field: checked whole before anything is written. */
export function checkMetadata (field: 'appMetadata' | 'userMetadata', value: unknown): Metadata {
  const refuse = (detail: string) => new AppError('validation_failed', {
    detail: `${field}: ${detail}`, extensions: { errors: [{ field: `body.${field}`, message: detail }] }
  })
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw refuse('must be a JSON object')
  const key = badKey(value)
  if (key !== null) throw refuse(`the key "${key.slice(0, 40)}" starts with $ or holds a dot`)
  if (Buffer.byteLength(JSON.stringify(value)) > METADATA_MAX_BYTES) throw refuse(`must be at most ${METADATA_MAX_BYTES} bytes as JSON`)
  return value as Metadata
}
