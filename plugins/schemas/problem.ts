import { Type, type Static } from 'typebox'
import { ERRORS, type ErrorCode } from '../../src/errors.ts'

/** A problem's `type` is this followed by its code. */
export const PROBLEM_TYPE_BASE = 'https://otp-gate.dev/problems/'

export const FieldErrorSchema = Type.Object({
  field: Type.String({ description: 'where the problem is, e.g. body.email' }),
  message: Type.String()
}, { $id: 'FieldError' })

// by reference, so the document names FieldError once instead of inlining it into Problem
const FieldErrorRefSchema = Type.Unsafe<Static<typeof FieldErrorSchema>>({ $ref: 'FieldError#' })

/** RFC 9457 problem details with the project's stable machine `code`. */
export const ProblemSchema = Type.Object({
  type: Type.String({ format: 'uri', description: 'identifies the problem type' }),
  title: Type.String(),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.String(),
  code: Type.Unsafe<ErrorCode>({ type: 'string', enum: Object.keys(ERRORS), description: 'stable machine-readable error code', examples: ['validation_failed'] }),
  errors: Type.Optional(Type.Array(FieldErrorRefSchema, { description: 'failing fields, for validation_failed' })),
  remainingAttempts: Type.Optional(Type.Integer({ minimum: 0, description: 'for invalid_code' })),
  retryAfter: Type.Optional(Type.Integer({ minimum: 0, description: 'seconds to wait, also in Retry-After' }))
}, {
  $id: 'Problem',
  additionalProperties: true,
  description: 'application/problem+json (RFC 9457)',
  examples: [{ type: PROBLEM_TYPE_BASE + 'validation_failed', title: 'Request validation failed', status: 400, detail: 'One or more fields are invalid.', code: 'validation_failed', errors: [{ field: 'body.email', message: 'must NOT have fewer than 3 characters' }] }]
})
