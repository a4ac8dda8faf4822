import type { FastifyInstance } from 'fastify'
import { SoftwareAuthenticator } from './software-authenticator.ts'
import { bearer } from './login.ts'

/** Passkeys on for https://app.example.org (RP ID example.org); logins repeat without a resend cooldown. */
export const ORIGIN = 'https://app.example.org'
export const PASSKEY_ENV = { WEBAUTHN_RP_ID: 'example.org', WEBAUTHN_ORIGINS: ORIGIN, OTP_RESEND_COOLDOWN_SECONDS: '0' }

export const newAuthenticator = (counts = true) => new SoftwareAuthenticator({ origin: ORIGIN, counts })

/** Creation options, a credential made by `authenticator` for them, and the answer of POST /v1/me/passkeys. */
export async function addPasskey (
  app: FastifyInstance, accessToken: string, authenticator: SoftwareAuthenticator, name?: string
) {
  const options = await app.inject({ method: 'POST', url: '/v1/me/passkeys/options', headers: bearer(accessToken) })
  if (options.statusCode !== 200) throw new Error(`options answered ${options.statusCode}: ${options.body}`)
  const credential = authenticator.create(options.json())
  return await app.inject({ method: 'POST', url: '/v1/me/passkeys', headers: bearer(accessToken), payload: { credential, ...(name ? { name } : {}) } })
}

export async function signInOptions (app: FastifyInstance) {
  const options = await app.inject({ method: 'POST', url: '/v1/auth/passkey/options' })
  if (options.statusCode !== 200) throw new Error(`options answered ${options.statusCode}: ${options.body}`)
  return options.json()
}

export const verifyPasskey = (app: FastifyInstance, credential: unknown) =>
  app.inject({ method: 'POST', url: '/v1/auth/passkey/verify', payload: { credential } })
