import type { FastifyRequest } from 'fastify'
import { AppError } from '../src/errors.ts'

/**
 * The hook of a passkey route context while passkeys are off (no WEBAUTHN_RP_ID): the routes stay in the
 * OpenAPI document but do not exist on this instance, 404 as for any unknown route, before anything else runs.
 */
export const passkeysOff = async (request: FastifyRequest): Promise<void> => {
  throw new AppError('not_found', { detail: `No route for ${request.method} ${request.url.split('?')[0] ?? '/'}: passkeys are off on this server.` })
}

/** The service, which exists whenever the hook above is not installed. */
export function whenOn<T> (service: T | null): T {
  if (service === null) throw new AppError('not_found', { detail: 'Passkeys are off on this server.' })
  return service
}
