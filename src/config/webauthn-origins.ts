import type { Config } from '../config.ts'

/** Where passkeys live: the RP ID they are bound to, the name browsers show, the pages allowed to use them. */
export interface WebAuthnSettings {
  rpId: string
  rpName: string
  origins: string[]
}

/**
 * The allowed origins: WEBAUTHN_ORIGINS, else the API's own (PUBLIC_BASE_URL) and the exact CORS_ORIGINS entries
 * (a wildcard or `*` names no page a browser reports, so it never counts here).
 */
export function webAuthnOrigins (config: Pick<Config, 'WEBAUTHN_ORIGINS' | 'PUBLIC_BASE_URL' | 'CORS_ORIGINS'>): string[] {
  if (config.WEBAUTHN_ORIGINS.length > 0) return config.WEBAUTHN_ORIGINS
  const own = config.PUBLIC_BASE_URL === undefined ? [] : [new URL(config.PUBLIC_BASE_URL).origin]
  return [...new Set([...own, ...config.CORS_ORIGINS.filter((entry) => !entry.includes('*'))])]
}

/** The settings when passkeys are on (WEBAUTHN_RP_ID set), null otherwise. */
export function webAuthnSettings (config: Config): WebAuthnSettings | null {
  if (config.WEBAUTHN_RP_ID === undefined) return null
  const rpName = config.WEBAUTHN_RP_NAME ?? config.APP_NAME
  return { rpId: config.WEBAUTHN_RP_ID, rpName, origins: webAuthnOrigins(config) }
}

/** A browser accepts an RP ID only when it is the page's host or a suffix of it at a label boundary. */
export const rpIdCovers = (rpId: string, host: string): boolean => host === rpId || host.endsWith('.' + rpId)

/** What is wrong with the passkey settings: an origin that is none, or one the RP ID does not cover. */
export function webAuthnProblems (config: Config): string[] {
  const problems: string[] = []
  for (const entry of config.WEBAUTHN_ORIGINS) {
    let origin: string | undefined
    try { origin = new URL(entry).origin } catch {}
    if (origin !== entry || !/^https?:/.test(entry)) {
      problems.push(`WEBAUTHN_ORIGINS: "${entry}" is not an exact origin (want scheme://host[:port], no path, no trailing slash)`)
    }
  }
  const rpId = config.WEBAUTHN_RP_ID
  if (rpId === undefined || problems.length > 0) return problems
  const origins = webAuthnOrigins(config)
  if (origins.length === 0) {
    problems.push('WEBAUTHN_ORIGINS: passkeys need at least one allowed origin (set WEBAUTHN_ORIGINS, PUBLIC_BASE_URL or CORS_ORIGINS)')
  }
  for (const origin of origins) {
    const host = new URL(origin).hostname
    if (!rpIdCovers(rpId, host)) {
      problems.push(`WEBAUTHN_RP_ID: "${rpId}" is not a suffix of the host of the allowed origin ${origin}; browsers would refuse every passkey there`)
    }
  }
  return problems
}
