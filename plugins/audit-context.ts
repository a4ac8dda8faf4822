import fp from 'fastify-plugin'
import { fastifyRequestContext, requestContext } from '@fastify/request-context'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuditContext } from '../src/audit/audit-event.ts'
import { clientInfo } from './auth.ts'

declare module '@fastify/request-context' {
  interface RequestContextData {
    /** the request an event is recorded in: its context is only read then, not on every request */
    auditedRequest: FastifyRequest
  }
}

/** The client's IP and user agent and the request id of the request a security event is recorded in, if any. */
export const currentAuditContext = (): AuditContext | undefined => {
  const request = requestContext.get('auditedRequest')
  return request && { ...clientInfo(request), requestId: request.id }
}

/**
 * Each request runs in a context holding itself, so the security events its flows record carry its client's
 * IP, user agent and request id (currentAuditContext, which src/domain.ts hands to the AuditLog) in one call.
 */
async function auditContextPlugin (app: FastifyInstance) {
  await app.register(fastifyRequestContext, {
    defaultStoreValues: (request) => ({ auditedRequest: request })
  })
}

export default fp(auditContextPlugin, { name: 'audit-context', fastify: '5.x' })
