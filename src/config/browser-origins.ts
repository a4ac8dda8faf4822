/**
 * CORS_ORIGINS: the web origins whose pages may call the API. An entry is an exact origin
 * (`https://app.example.com`, `http://localhost:5173`), an origin whose leftmost host label is `*` (one level, and
 * never right above a top-level domain: `https://*.example.com`), or `*` alone: any origin, without cookies.
 */
export interface BrowserOrigins {
  /** `*` is listed: any origin may read answers, none may use the session cookie */
  anyOrigin: boolean
  /** whether `origin` is listed by name or by a wildcard entry (`*` alone does not count) */
  listed: (origin: string) => boolean
}

/** What is wrong with one CORS_ORIGINS entry, or undefined when it is a valid one. */
export function originEntryProblem (entry: string): string | undefined {
  if (entry === '*') return undefined
  const host = /^[a-z]+:\/\/([^/:]*)/.exec(entry)?.[1] ?? ''
  if (host.includes('*')) {
    if (!host.startsWith('*.') || host.indexOf('*', 1) !== -1) return `CORS_ORIGINS: "${entry}" may only have "*" as its leftmost host label`
    if (host.split('.').length < 3) return `CORS_ORIGINS: "${entry}" is too wide (a wildcard stands for one label under a domain: https://*.example.com)`
  }
  const concrete = entry.replace('*', 'wildcard')
  let origin: string | undefined
  try {
    const url = new URL(concrete)
    if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin
  } catch {}
  if (origin !== concrete) {
    return `CORS_ORIGINS: "${entry}" is not an origin (want scheme://host[:port] in lower case, no path, no trailing slash)`
  }
  return undefined
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The matcher of a valid CORS_ORIGINS list (config.ts refuses invalid entries at start). */
export function browserOrigins (entries: string[]): BrowserOrigins {
  const exact = new Set(entries.filter((entry) => !entry.includes('*')))
  const patterns = entries.filter((entry) => entry !== '*' && entry.includes('*'))
    .map((entry) => new RegExp('^' + escape(entry).replace('\\*', '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?') + '$'))
  return {
    anyOrigin: entries.includes('*'),
    listed: (origin) => exact.has(origin) || patterns.some((pattern) => pattern.test(origin))
  }
}
