import fp from 'fastify-plugin'
import cors, { type FastifyCorsOptions } from '@fastify/cors'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../src/config.ts'
import { browserOrigins, type BrowserOrigins } from '../src/config/browser-origins.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** CORS_ORIGINS as a matcher; the session cookie asks it too */
    browserOrigins: BrowserOrigins
    /** the CORS headers of an answer no hook sees (the router's own refusals, plugins/problem.ts) */
    corsHeaders: (request: FastifyRequest, reply: FastifyReply) => void
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']
const ALLOWED_HEADERS = ['content-type', 'authorization', 'x-request-id']
// what a browser app reads of an answer: when to retry, the budget left, and the id to quote to support
const EXPOSED_HEADERS = ['retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'x-request-id']

/**
 * Cross-origin access for the pages of CORS_ORIGINS, through @fastify/cors: its onRequest hook runs before load
 * shedding, the rate limits and authentication, so preflights are answered 204 on every route and every answer,
 * problems included, carries the headers. A listed origin also gets Access-Control-Allow-Credentials with cookie
 * sessions on; `*` lets any origin read, never with credentials. Any other origin gets no Access-Control-* header.
 */
async function corsPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const origins = browserOrigins(config.CORS_ORIGINS)
  app.decorate('browserOrigins', origins)
  const common = {
    methods: METHODS,
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: config.CORS_MAX_AGE_SECONDS,
    strictPreflight: false
  }
  const optionsFor = (origin: string | undefined) => {
    const listed = origin !== undefined && origins.listed(origin)
    const allowed = listed || (origin !== undefined && origins.anyOrigin)
    return { ...common, origin: allowed ? origin : false, credentials: listed && config.SESSION_COOKIE === 'on' } as const
  }
  await app.register(cors, {
    // per request, so that credentials go only to listed origins; a resolver makes the answer Vary: Origin
    delegator: (request: FastifyRequest, callback: (error: Error | null, options: FastifyCorsOptions) => void) => {
      callback(null, optionsFor(request.headers.origin))
    }
  })
  app.decorate('corsHeaders', (request: FastifyRequest, reply: FastifyReply) => {
    const { origin, credentials } = optionsFor(request.headers.origin)
    reply.header('vary', 'Origin')
    if (origin === false) return
    reply.header('access-control-allow-origin', origin)
    if (credentials) reply.header('access-control-allow-credentials', 'true')
    reply.header('access-control-expose-headers', EXPOSED_HEADERS.join(', '))
  })
}

export default fp(corsPlugin, { name: 'cors', fastify: '5.x' })
