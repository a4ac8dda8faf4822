import type { FastifyError, FastifyRequest } from 'fastify'

export interface FieldError { field: string, message: string }

type ValidationItem = NonNullable<FastifyError['validation']>[number]
interface ObjectSchema { properties?: Record<string, unknown>, required?: string[] }

// where Fastify keeps each validated part of the request
const PARTS = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' } as const

function fieldError (context: string | undefined, item: ValidationItem): FieldError {
  const missing = item.params as {
    missingProperty?: string, requiredProperties?: string[], additionalProperty?: string
  }
  const name = missing.missingProperty ?? missing.requiredProperties?.[0] ?? missing.additionalProperty
  const path = [context, ...item.instancePath.split('/').filter(Boolean), ...(name ? [name] : [])]
  return { field: path.filter(Boolean).join('.'), message: item.message ?? 'is invalid' }
}

/** The properties that tell a union's objects apart: required by one, unknown to another (email, phone). */
function alternatives (branches: ObjectSchema[]): string[] {
  const names = branches.flatMap((branch) =>
    (branch.required ?? []).filter((name) => branches.some((other) => !(name in (other.properties ?? {})))))
  return [...new Set(names)]
}

/**
 * Ajv answers a failed union of objects (plugins/schemas/identifiers.ts contactBodySchema) with the first error
 * of every branch, most of them about a branch the client never meant. With exactly one alternative given, only
 * the errors of its branch are kept; with none or several, one error says which properties exclude each other.
 */
function unionErrors (error: FastifyError, request: FastifyRequest): FieldError[] | null {
  const items = error.validation ?? []
  const union = items.at(-1)
  const context = error.validationContext as keyof typeof PARTS | undefined
  if (context === undefined || union?.keyword !== 'anyOf' || union.instancePath !== '') return null
  const branches = (request.routeOptions.schema?.[context] as { anyOf?: ObjectSchema[] } | undefined)?.anyOf
  if (!branches?.every((branch) => branch.properties !== undefined)) return null
  const names = alternatives(branches)
  const data: unknown = request[PARTS[context]]
  const given = names.filter((name) => typeof data === 'object' && data !== null && name in data)
  if (given.length !== 1) return [{ field: context, message: `must have exactly one of ${names.join(' and ')}` }]
  const meant = branches.findIndex((branch) => branch.required?.includes(given[0] as string))
  return items.filter((item) => item.schemaPath.startsWith(`#/anyOf/${meant}/`)).map((item) => fieldError(context, item))
}

/** The failing fields of a validation error, each named by where it is (`body.email`, `querystring.to`). */
export function fieldErrors (error: FastifyError, request: FastifyRequest): FieldError[] {
  return unionErrors(error, request) ??
    (error.validation ?? []).map((item) => fieldError(error.validationContext, item))
}
