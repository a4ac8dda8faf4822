import type { FastifyInstance } from 'fastify'

export interface MediaType {
  schema?: { $ref?: string, examples?: unknown[] }, example?: unknown, examples?: Record<string, { value: unknown }>
}
export interface Response {
  description: string, headers?: Record<string, unknown>, content?: Record<string, MediaType>
}
export interface Parameter { in: 'query' | 'path' | 'header' | 'cookie', name: string, required?: boolean, example?: unknown, schema: object }
export interface Operation {
  operationId?: string
  summary?: string
  tags?: string[]
  security?: Array<Record<string, unknown[]>>
  parameters?: Parameter[]
  requestBody?: { required?: boolean, content: Record<string, MediaType> }
  responses: Record<string, Response>
}
export interface OpenApiDocument {
  tags?: Array<{ name: string }>
  paths: Record<string, Record<string, Operation>>
}
export interface DocumentedOperation { method: string, path: string, operation: Operation }

/** The document as the app serves it. */
export async function documentOf (app: FastifyInstance): Promise<OpenApiDocument> {
  await app.ready()
  return app.swagger() as unknown as OpenApiDocument
}

export function operationsOf (document: OpenApiDocument): DocumentedOperation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })))
}

/** The examples a media type shows: its own `example`/`examples`, else its schema's `examples`. */
export function examplesOf (media: MediaType | undefined): unknown[] {
  if (media === undefined) return []
  if (media.example !== undefined) return [media.example]
  if (media.examples !== undefined) return Object.values(media.examples).map((example) => example.value)
  return media.schema?.examples ?? []
}

/** A request URL for the operation: path and required query parameters filled with their examples. */
export function exampleUrl ({ path, operation }: DocumentedOperation, fallback = 'x'): string {
  const parameters = operation.parameters ?? []
  const value = (parameter: Parameter) => String(parameter.example ?? fallback)
  const url = path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const parameter = parameters.find((item) => item.in === 'path' && item.name === name)
    return encodeURIComponent(parameter ? value(parameter) : fallback)
  })
  const query = new URLSearchParams(parameters.filter((item) => item.in === 'query' && item.required).map((item): [string, string] => [item.name, value(item)]))
  return query.size > 0 ? `${url}?${query}` : url
}
