import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, ERRORS, isAppError, type ErrorCode } from '../src/errors.ts'
import { PROBLEM_TYPE_BASE } from './schemas/problem.ts'
import { isStoreUnavailable, storeUnavailable } from '../src/stores/store-errors.ts'
import { setResponseHeaders } from './response-headers.ts'
import { fieldErrors } from './validation-errors.ts'

/** Fastify's own error codes, mapped onto the project's stable codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_BAD_URL: 'bad_request',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long'
}

/** For a client error nothing above recognises: the plain code of its status, never a more specific one. */
const GENERIC_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type'
}

// the router's messages quote the whole path back; these say what is wrong instead
const FASTIFY_DETAILS: Record<string, string> = {
  FST_ERR_BAD_URL: 'The path is not validly percent-encoded.',
  FST_ERR_MAX_PARAM_LENGTH: 'A path parameter is longer than 100 characters.'
}

function toAppError (error: FastifyError, request: FastifyRequest): AppError {
  if (isAppError(error)) return error
  if (isStoreUnavailable(error)) return storeUnavailable()
  if (error.validation) {
    return new AppError('validation_failed', { detail: 'One or more fields are invalid.', extensions: { errors: fieldErrors(error, request) } })
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined
  if (mapped) return new AppError(mapped, { detail: FASTIFY_DETAILS[error.code] ?? error.message })
  if (error instanceof SyntaxError) return new AppError('bad_request', { detail: 'The body is not valid JSON.' })
  if (error.code === 'FST_UNDER_PRESSURE') return new AppError('service_unavailable', { detail: 'The server is overloaded; try again shortly.', retryAfter: 2 })
  const status = error.statusCode ?? 500
  if (status === 429) return new AppError('rate_limited', { detail: error.message })
  if (status === 503) return new AppError('service_unavailable')
  if (status >= 400 && status < 500) return new AppError(GENERIC_CODES[status] ?? 'bad_request', { detail: error.message })
  return new AppError('internal_error')
}

/**
 * A 429 that says when to come back also carries the IETF RateLimit fields, named as @fastify/rate-limit names
 * them in draft-spec mode, so per-IP and per-destination limits answer alike. They describe the budget that
 * refused, replacing the per-IP ones the rate limiter set earlier in the request.
 */
function setRateLimitHeaders (reply: FastifyReply, error: AppError, retryAfter: string): void {
  if (error.limit === undefined) reply.removeHeader('ratelimit-limit')
  else reply.header('ratelimit-limit', String(error.limit))
  reply.header('ratelimit-remaining', '0')
  reply.header('ratelimit-reset', retryAfter)
}

export function sendProblem (reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfter !== undefined) {
    const retryAfter = String(Math.max(1, Math.ceil(error.retryAfter)))
    reply.header('retry-after', retryAfter)
    if (error.status === 429) setRateLimitHeaders(reply, error, retryAfter)
  }
  return reply
    .code(error.status)
    .type('application/problem+json')
    .send({
      type: PROBLEM_TYPE_BASE + error.code,
      title: ERRORS[error.code].title,
      status: error.status,
      detail: error.detail,
      code: error.code,
      ...error.extensions
    })
}

function handleError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = toAppError(error, request)
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
  else request.log.info({ code: problem.code }, 'request refused')
  return sendProblem(reply, problem)
}

/**
 * Fastify's `frameworkErrors` option: what the router refuses (a badly encoded or over-long path parameter)
 * never reaches a route context, so neither the error handler nor the onSend hooks run for it.
 */
export function frameworkErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  setResponseHeaders(request, reply)
  request.server.corsHeaders?.(request, reply)
  handleError(error, request, reply)
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the route is switched off by configuration: it answers as if it did not exist, and is not documented */
    disabled?: boolean
  }
}

const noRoute = (request: FastifyRequest): AppError =>
  new AppError('not_found', { detail: `No route for ${request.method} ${request.url.split('?')[0] ?? '/'}.` })

/**
 * One error format everywhere (RFC 9457 problem+json with a stable `code`), for our errors and Fastify's own,
 * plus 404 and 405 for unknown routes.
 */
async function problemPlugin (app: FastifyInstance) {
  const routes: Array<{ method: string, pattern: RegExp }> = []
  app.addHook('onRoute', (route) => {
    if (route.config?.disabled === true) {
      // before any other hook of the route (rate limits), so nothing tells it from a path that does not exist
      route.onRequest = [async (request) => { throw noRoute(request) }, ...[route.onRequest ?? []].flat()]
      route.schema = { ...route.schema, hide: true }
      return
    }
    // @fastify/cors answers preflights on `OPTIONS *`; an OPTIONS it does not answer is no method of a route
    if (route.method === 'OPTIONS') return
    const pattern = new RegExp('^' + route.url.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*') + '/?$')
    for (const method of [route.method].flat()) routes.push({ method, pattern })
  })

  app.setErrorHandler(handleError)

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/'
    const allowed = [...new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method))]
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '))
      return sendProblem(reply, new AppError('method_not_allowed', { detail: `${request.method} is not allowed here; use ${allowed.join(', ')}.` }))
    }
    return sendProblem(reply, noRoute(request))
  })
}

export default fp(problemPlugin, { name: 'problem', fastify: '5.x' })
