import { hash, timingSafeEqual } from 'node:crypto'
import { randomBytes } from '../random-bytes.ts'

/** A service key's name and the SHA-256 of the key: the key itself is never configured or stored. */
export interface AdminKey { name: string, hash: Buffer }

const ENTRY = /^([a-z0-9][a-z0-9_-]{0,31})=sha256:([0-9a-f]{64})$/
export const ADMIN_KEY_MIN_LENGTH = 32

/**
 * Why one ADMIN_API_KEYS entry is not `name=sha256:<64 lowercase hex>`, or null when it is. The entry is named by
 * what precedes its `=`: a key pasted in place of its hash must not reach the logs.
 */
export function adminKeyEntryProblem (entry: string, index = 0): string | null {
  if (ENTRY.test(entry)) return null
  const name = entry.includes('=') ? entry.slice(0, entry.indexOf('=')).slice(0, 32) : ''
  const which = name === '' ? `entry ${index + 1}` : `the entry "${name}"`
  return `ADMIN_API_KEYS: ${which} is not name=sha256:<the key's SHA-256 in 64 lowercase hex digits> (npm run admin-key -- <name> makes one)`
}

/** ADMIN_API_KEYS entries, checked by loadConfig before this is called. */
export function parseAdminKeys (entries: readonly string[]): AdminKey[] {
  return entries.map((entry) => {
    const match = ENTRY.exec(entry)
    if (!match) throw new Error(adminKeyEntryProblem(entry) ?? entry)
    return { name: match[1] as string, hash: Buffer.from(match[2] as string, 'hex') }
  })
}

export const hashAdminKey = (key: string): Buffer => hash('sha256', key, 'buffer')

/**
 * The name of the key presented, or null. Every configured hash is compared, in constant time, whatever matches:
 * neither the time nor the answer says how close a guess came or which entry it was compared with.
 */
export function matchAdminKey (keys: readonly AdminKey[], presented: string): string | null {
  if (presented.length < ADMIN_KEY_MIN_LENGTH) return null
  const hash = hashAdminKey(presented)
  let found: string | null = null
  for (const key of keys) {
    if (timingSafeEqual(key.hash, hash) && found === null) found = key.name
  }
  return found
}

/** A new random key (256 bits, base64url: 43 characters) and the ADMIN_API_KEYS entry that admits it. */
export function newAdminKey (name: string): { key: string, entry: string } {
  const key = `ogk_${randomBytes(32).toString('base64url')}`
  const entry = `${name}=sha256:${hashAdminKey(key).toString('hex')}`
  const problem = adminKeyEntryProblem(entry)
  if (problem) throw new Error(problem)
  return { key, entry }
}
