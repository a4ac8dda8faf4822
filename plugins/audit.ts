import fp from 'fastify-plugin'
import { fastifyRequestContext, requestContext } from '@fastify/request-context'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../src/config.ts'
import type { AuditContext } from '../src/audit/audit-event.ts'
import { AuditLog } from '../src/audit/audit-log.ts'
import type { AuditStore } from '../src/audit/audit-store.ts'
import { MongoAuditStore } from '../src/audit/mongo-audit-store.ts'
import { MemoryAuditStore } from '../src/audit/memory-audit-store.ts'
import { webhookJob } from '../src/audit/audit-webhook.ts'
import { withDeadline } from '../src/stores/store-deadline.ts'
import { clientInfo } from './auth.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** the security activity log: record events, read a user's own */
    audit: AuditLog
  }
}

declare module '@fastify/request-context' {
  interface RequestContextData {
    /** the request an event is recorded in: its context is only read then, not on every request */
    auditedRequest: FastifyRequest
  }
}

const DAY_MS = 86_400_000

/**
 * The security activity log (src/audit/): `audit_events` in MongoDB, or in memory in the embedded mode. Each
 * request runs in a context holding its client's IP, user agent and request id, which every event it records
 * carries, so the flows record an event in one call. With AUDIT_WEBHOOK_URL each written batch is queued for the
 * webhook (the delivery queue's worker posts it), never sent on a request's path.
 */
async function auditPlugin (app: FastifyInstance, { config, now }: { config: Config, now: () => Date }) {
  await app.register(fastifyRequestContext, {
    defaultStoreValues: (request) => ({ auditedRequest: request })
  })
  const { mongo } = app
  const retentionMs = config.AUDIT_RETENTION_DAYS * DAY_MS
  // bounded like every MongoDB call of a request (GET /v1/me/activity)
  const store: AuditStore = mongo
    ? withDeadline(new MongoAuditStore(mongo, { retentionMs }), config.STORE_TIMEOUT_MS, 'audit')
    : new MemoryAuditStore({ retentionMs, now: () => now().getTime() })
  await store.init()
  const log = app.log.child({ component: 'audit' })
  const webhook = config.AUDIT_WEBHOOK_URL !== undefined
  const audit = new AuditLog({
    store,
    now,
    context: (): AuditContext | undefined => {
      const request = requestContext.get('auditedRequest')
      return request && { ...clientInfo(request), requestId: request.id }
    },
    onBatch: webhook
      ? async (events) => {
        await Promise.all(events.map((event) => app.deliveryQueue.enqueue(webhookJob(event, now().getTime()))))
      }
      : undefined,
    onError: (error, what) => log.warn({ err: error, what, stats: audit.stats() }, 'security events could not be written')
  })
  app.decorate('audit', audit)
  // before the delivery queue closes (onClose), so the last events' webhook jobs are still queued
  app.addHook('preClose', async () => { await audit.flush() })
  app.addHook('onClose', async () => { await audit.close() })
}

export default fp(auditPlugin, { name: 'audit', fastify: '5.x', dependencies: ['mongo'] })
