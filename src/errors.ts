/**
 * The one table of error codes clients program against: each stable `code` with its HTTP status and title.
 * Domain code throws `AppError`; plugins/problem.ts turns it into application/problem+json.
 */
export const ERRORS = {
  validation_failed: { status: 400, title: 'Request validation failed' },
  bad_request: { status: 400, title: 'Bad request' },
  invalid_code: { status: 400, title: 'The code is not correct' },
  challenge_expired: { status: 410, title: 'The challenge has expired or does not exist' },
  invalid_passkey_registration: { status: 400, title: 'The new passkey could not be verified' },
  undo_link_invalid: { status: 410, title: 'The link is unknown, has expired or was already used' },
  unauthorized: { status: 401, title: 'Authentication required' },
  invalid_passkey: { status: 401, title: 'The passkey was not accepted' },
  token_reused: { status: 401, title: 'Refresh token reused; the session was revoked' },
  forbidden: { status: 403, title: 'Forbidden' },
  login_suspended: { status: 403, title: 'Sign-in with codes is suspended after too many wrong codes' },
  destination_blocked: { status: 403, title: 'Codes are not sent to this destination for now' },
  reauthentication_required: { status: 403, title: 'Prove a sign-in identifier of the account first' },
  origin_not_allowed: { status: 403, title: 'This Origin may not use the session cookie' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  passkey_limit_reached: { status: 409, title: 'The account has as many passkeys as it may have' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  uri_too_long: { status: 414, title: 'URI too long' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  invalid_destination: { status: 422, title: 'The destination cannot receive codes' },
  too_many_attempts: { status: 429, title: 'Too many wrong codes; start again' },
  cooldown: { status: 429, title: 'Wait before asking for another code' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal server error' },
  delivery_failed: { status: 502, title: 'The code could not be delivered' },
  service_unavailable: { status: 503, title: 'Service temporarily unavailable' }
} as const

export type ErrorCode = keyof typeof ERRORS

export interface AppErrorOptions {
  detail?: string
  /** seconds the client should wait, sent as Retry-After */
  retryAfter?: number
  /** with a 429: the size of the budget that ran out, sent as RateLimit-Limit */
  limit?: number
  /** extra members of the problem body, e.g. remainingAttempts */
  extensions?: Record<string, unknown>
  cause?: unknown
}

export class AppError extends Error {
  override name = 'AppError'
  readonly code: ErrorCode
  readonly status: number
  readonly detail: string
  readonly retryAfter: number | undefined
  readonly limit: number | undefined
  readonly extensions: Record<string, unknown>

  constructor (code: ErrorCode, options: AppErrorOptions = {}) {
    super(options.detail ?? ERRORS[code].title, { cause: options.cause })
    this.code = code
    this.status = ERRORS[code].status
    this.detail = options.detail ?? ERRORS[code].title
    this.retryAfter = options.retryAfter
    this.limit = options.limit
    this.extensions = options.extensions ?? {}
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError
