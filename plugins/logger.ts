import type { FastifyServerOptions } from 'fastify'
import type { Config } from '../src/config.ts'
import { storeErrorSummary } from '../src/stores/store-errors.ts'

/**
 * Secrets and personal data are removed by configuration, so no call site has to remember.
 * Any property with one of these names, at the top level or one level down, is censored.
 */
const SECRET_KEYS = ['code', 'codes', 'token', 'accessToken', 'refreshToken', 'mfaToken', 'deviceToken', 'linkToken', 'secret', 'password', 'email', 'phone', 'destination', 'to', 'otpauthUri', 'qrCode', 'recoveryCodes', 'pepper', 'apiKey', 'apiSecret']

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`)
]

/**
 * Errors as pino's standard serializer writes them (type, message, stack, own properties), except Redis and
 * MongoDB errors: those only by type, command name and code (store-errors.ts). A cause is left out: its
 * message may be a store's.
 */
export function serializeError (error: unknown): Record<string, unknown> | string {
  // some callers log a message rather than the error itself
  if (!(error instanceof Error)) return String(error)
  return storeErrorSummary(error) ??
    { ...error, type: error.constructor.name, message: error.message, stack: error.stack }
}

export function loggerOptions (config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      // typed by Fastify as pino's (message and stack always there); a store error's line has neither
      err: serializeError as (error: Error) => { type: string, message: string, stack: string },
      // the query string can carry a destination (the dev outbox), so only the path is logged
      req: (request: { method: string, url: string, id: string, ip?: string }) => ({
        method: request.method,
        path: request.url.split('?')[0],
        remoteAddress: request.ip
      })
    }
  }
}
