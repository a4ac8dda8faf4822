import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

// any /v1 answer may carry a token, a code or a user: neither a shared nor a browser cache may keep it
const API_PATH = /^\/v1(?:[/?]|$)/

/** What every answer carries. Also called for the answers Fastify makes before any hook of ours can run. */
export function setResponseHeaders (request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id)
  reply.header('x-content-type-options', 'nosniff')
  if (API_PATH.test(request.url)) reply.header('cache-control', 'no-store')
}

/** The request id, `nosniff` and, under /v1, `Cache-Control: no-store` on every answer, errors and docs included. */
async function responseHeadersPlugin (app: FastifyInstance) {
  // a callback hook: on every answer, an async one would cost a promise for nothing
  app.addHook('onSend', (request, reply, payload, done) => {
    setResponseHeaders(request, reply)
    done(null, payload)
  })
}

export default fp(responseHeadersPlugin, { name: 'response-headers', fastify: '5.x' })
