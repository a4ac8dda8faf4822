import type { ErrorCode, FieldError, Problem } from './types.ts'

/**
 * Codes of failures that never reached the API, or that the client itself decides; `passkey_*`: the browser's
 * WebAuthn ceremony was closed by the person (or timed out), is not offered here, or failed otherwise.
 */
export type ClientErrorCode =
  | 'network_error' | 'not_signed_in' | 'passkey_cancelled' | 'passkey_unsupported' | 'passkey_failed'

/**
 * Every failure of the client: the problem's stable `code` and `status`, and what a UI needs without parsing
 * (`retryAfter` seconds, `remainingAttempts`, failing `fields`). `status` is 0 when no answer came.
 */
export class OtpGateError extends Error {
  override name = 'OtpGateError'
  readonly code: ErrorCode | ClientErrorCode
  readonly status: number
  readonly detail: string
  readonly retryAfter: number | undefined
  readonly remainingAttempts: number | undefined
  readonly fields: FieldError[]
  readonly requestId: string | undefined

  constructor (code: ErrorCode | ClientErrorCode, status: number, detail: string, extra: {
    retryAfter?: number | undefined
    remainingAttempts?: number | undefined
    fields?: FieldError[] | undefined
    requestId?: string | undefined
    cause?: unknown
  } = {}) {
    super(detail, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.code = code
    this.status = status
    this.detail = detail
    this.retryAfter = extra.retryAfter
    this.remainingAttempts = extra.remainingAttempts
    this.fields = extra.fields ?? []
    this.requestId = extra.requestId
  }
}

const isProblem = (body: unknown): body is Problem =>
  typeof body === 'object' && body !== null && typeof (body as Problem).code === 'string'

// what a proxy in front of the API may answer without a problem body
const CODE_OF_BARE_STATUS: Partial<Record<number, ErrorCode>> = {
  401: 'unauthorized', 404: 'not_found', 429: 'rate_limited', 500: 'internal_error'
}

/** The error an API answer carries: its problem+json, or what can be said of an answer that is not one. */
export function errorFromResponse (response: Response, body: unknown): OtpGateError {
  const requestId = response.headers.get('x-request-id') ?? undefined
  const header = Number.parseInt(response.headers.get('retry-after') ?? '', 10)
  if (!isProblem(body)) {
    const { status } = response
    const code = CODE_OF_BARE_STATUS[status] ?? (status >= 500 ? 'service_unavailable' : 'bad_request')
    return new OtpGateError(code, status, `The API answered ${status} without a problem body.`, { requestId })
  }
  return new OtpGateError(body.code, body.status, body.detail, {
    retryAfter: body.retryAfter ?? (Number.isNaN(header) ? undefined : header),
    remainingAttempts: body.remainingAttempts,
    fields: body.errors,
    requestId
  })
}
