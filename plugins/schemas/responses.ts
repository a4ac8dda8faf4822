import { Type, type Static, type TSchema } from 'typebox'
import type { FastifyReply } from 'fastify'
import { ERRORS, type ErrorCode } from '../../src/errors.ts'
import { PROBLEM_TYPE_BASE, ProblemSchema } from './problem.ts'

/** What a route with a body can answer before its handler runs: bad JSON, too large, not JSON. */
export const PARSE_ERRORS = ['bad_request', 'payload_too_large', 'unsupported_media_type'] as const satisfies ErrorCode[]
/** PARSE_ERRORS, and the body schema refusing it. */
export const BODY_ERRORS = ['validation_failed', ...PARSE_ERRORS] as const satisfies ErrorCode[]
/** Any route can fail unexpectedly, find a store unreachable, or shed load. */
const ANY_ROUTE_ERRORS: ErrorCode[] = ['internal_error', 'service_unavailable']

// by reference, so the document names Problem once; typed as what it refers to, so handlers keep their types
const ProblemRefSchema = Type.Unsafe<Static<typeof ProblemSchema>>({ $ref: 'Problem#' })

const seconds = (description: string) => ({ type: 'integer', minimum: 0, description })
const RETRY_AFTER = { 'retry-after': seconds('seconds to wait before trying again, when known') }
const RATE_LIMIT_FIELDS = {
  ...RETRY_AFTER,
  'ratelimit-limit': seconds('size of the budget that ran out (IETF RateLimit fields, draft)'),
  'ratelimit-remaining': seconds('what is left of it: 0'),
  'ratelimit-reset': seconds('seconds until it refills')
}
const HEADERS: Partial<Record<number, Record<string, object>>> = {
  403: RETRY_AFTER, 429: RATE_LIMIT_FIELDS, 503: RETRY_AFTER
}

const EXAMPLE_EXTENSIONS: Partial<Record<ErrorCode, object>> = {
  validation_failed: { detail: 'One or more fields are invalid.', errors: [{ field: 'body.email', message: 'must NOT have fewer than 3 characters' }] },
  invalid_code: { remainingAttempts: 4 }
}

const exampleOf = (code: ErrorCode) => ({
  type: PROBLEM_TYPE_BASE + code,
  title: ERRORS[code].title,
  status: ERRORS[code].status,
  detail: ERRORS[code].title,
  code,
  ...EXAMPLE_EXTENSIONS[code]
})

/**
 * The error responses of one operation, from the stable codes its handler and hooks can answer with, plus the
 * ones any route can: one response per status, documented and served as application/problem+json (Fastify
 * picks the serializer by status and content type), its description naming the codes, its example the first.
 */
export function problemResponses (...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of new Set([...codes, ...ANY_ROUTE_ERRORS])) {
    const status = ERRORS[code].status
    byStatus.set(status, [...byStatus.get(status) ?? [], code])
  }
  const responses = [...byStatus].sort(([a], [b]) => a - b).map(([status, statusCodes]) => [status, {
    description: statusCodes.map((code) => `- \`${code}\`: ${ERRORS[code].title}`).join('\n'),
    ...(HEADERS[status] ? { headers: HEADERS[status] } : {}),
    content: { 'application/problem+json': { schema: ProblemRefSchema, example: exampleOf(statusCodes[0] as ErrorCode) } }
  }] as const)
  return Object.fromEntries(responses)
}

/** A JSON success response with its description; the schema's first example shows as the response example. */
export function jsonResponse<T extends TSchema> (description: string, schema: T) {
  const [example] = (schema as { examples?: unknown[] }).examples ?? []
  return { description, content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } } }
}

/**
 * Answers `data` with the serializer of `branch`, the branch of the route's union (anyOf) response it belongs to.
 * fast-json-stringify finds an anyOf's branch by validating the data against each with ajv, date-time formats and
 * all (about 2 µs of every sign-in's answer); the route knows it already. Compiled once per route and branch.
 */
export function answerAs<T> (reply: FastifyReply, branch: TSchema, data: T): T {
  reply.type('application/json; charset=utf-8').serializer(reply.compileSerializationSchema(branch as Record<string, unknown>, '200', 'application/json'))
  return data
}
