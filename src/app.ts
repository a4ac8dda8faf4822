import Fastify, { type FastifyInstance, type FastifyServerOptions, type RawRequestDefaultExpression } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { randomUUID } from 'node:crypto'
import { isEmbedded, type Config } from './config.ts'
import { loggerOptions } from '../plugins/logger.ts'
import { startTracing } from './telemetry/tracing.ts'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import { FieldErrorSchema, ProblemSchema } from '../plugins/schemas/problem.ts'
import problem, { frameworkErrorHandler } from '../plugins/problem.ts'
import cors from '../plugins/cors.ts'
import tracing from '../plugins/tracing.ts'
import metrics from '../plugins/metrics.ts'
import responseHeaders from '../plugins/response-headers.ts'
import redis from '../plugins/redis.ts'
import mongo from '../plugins/mongo.ts'
import openapi from '../plugins/openapi.ts'
import rateLimit from '../plugins/rate-limit.ts'
import loadShedding from '../plugins/load-shedding.ts'
import { buildDomain, type DomainOverrides } from './domain.ts'
import { preferredEd25519Engine } from './sessions/ed25519-signer.ts'
import auditContext, { currentAuditContext } from '../plugins/audit-context.ts'
import services from '../plugins/services.ts'
import auth from '../plugins/auth.ts'
import sessionCookie from '../plugins/session-cookie.ts'
import health from '../plugins/health.ts'
import authRoutes from '../plugins/routes/auth.ts'
import meRoutes from '../plugins/routes/me.ts'
import meAuthenticatorRoutes from '../plugins/routes/me-authenticator.ts'
import authAuthenticatorRoutes from '../plugins/routes/auth-authenticator.ts'
import wellKnownRoutes from '../plugins/routes/well-known.ts'
import devOutboxRoutes from '../plugins/routes/dev-outbox.ts'
import meActivityRoutes from '../plugins/routes/me-activity.ts'
import meExportRoutes from '../plugins/routes/me-export.ts'
import devTemplateRoutes from '../plugins/routes/dev-templates.ts'
import demoRoutes from '../plugins/routes/demo.ts'
import adminAuth from '../plugins/admin-auth.ts'
import adminUserRoutes from '../plugins/routes/admin-users.ts'
import adminPasskeyRoutes from '../plugins/routes/admin-passkeys.ts'
import mePasskeyRoutes from '../plugins/routes/me-passkeys.ts'
import passkeyLoginRoutes from '../plugins/routes/auth-passkey.ts'

export interface AppOverrides extends DomainOverrides {
  logger?: FastifyServerOptions['logger']
  /** traces go here (tests: an in-memory exporter), whether or not OTEL_EXPORTER_OTLP_ENDPOINT is set */
  spanExporter?: SpanExporter
  /** the MongoDB driver's command events, for tests that count round trips; on anyway when tracing is */
  monitorMongoCommands?: boolean
}

/** TRUST_PROXY: false, true, a hop count, or a list of proxy addresses/CIDRs (proxy-addr semantics). */
function trustProxy (setting: string): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (setting === 'false') return false
  if (setting === 'true') return true
  if (/^\d+$/.test(setting)) {
    // Fastify 5 ignores a numeric trustProxy (it cannot check the peer is a proxy), so the n nearest hops are
    // trusted here: right only when nothing reaches the app except through them; a CIDR list is safer
    const hops = Number(setting)
    return hops === 0 ? false : (_address, hop) => hop < hops
  }
  return setting.split(',').map((item) => item.trim()).filter(Boolean)
}

// a client's id is only kept when it cannot forge a log field or a header: no separators, no control characters
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/

/** The client's X-Request-Id when it is a plain token, a new UUID otherwise. */
function requestId (request: RawRequestDefaultExpression): string {
  const header = request.headers['x-request-id']
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : randomUUID()
}

/** The server options of the API; the bench's floor server uses them too, so both are measured alike. */
export function serverOptions (config: Config, logger: FastifyServerOptions['logger'] = loggerOptions(config)) {
  return {
    logger,
    // genReqId reads X-Request-Id itself: with requestIdHeader set, Fastify would take any value as it is
    requestIdHeader: false,
    genReqId: requestId,
    frameworkErrors: frameworkErrorHandler,
    trustProxy: trustProxy(config.TRUST_PROXY),
    bodyLimit: 16 * 1024,
    connectionTimeout: config.REQUEST_TIMEOUT_MS,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    // plugins/load-shedding.ts answers requests that arrive while closing, as problem+json
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } }
  } satisfies FastifyServerOptions
}

/** What only makes sense on a laptop (the dev outbox, a made-up key) and channels that are off, said once at start. */
function logDomainChoices (app: FastifyInstance, config: Config): void {
  const { usesOutbox, offChannels } = app.delivery
  const outboxed = (['email', 'sms'] as const).filter((channel) => usesOutbox[channel])
  if (outboxed.length > 0) {
    const why = config.DEV_OUTBOX ? 'DEV_OUTBOX=true' : 'embedded mode, no provider configured'
    app.log.warn(`DEV OUTBOX (${why}): ${outboxed.join(' and ')} codes are not sent but kept in the clear, and GET /v1/dev/outbox serves them to anyone. Not for production.`)
  }
  for (const channel of offChannels) {
    app.log.warn({ channel }, `${channel === 'sms' ? 'SMS' : 'email'} codes are off: no provider is configured, so every start on this channel answers 503 (configure the provider, or DEV_OUTBOX=true for development)`)
  }
  // an optional dependency: without its prebuilt addon, access tokens are still signed, by OpenSSL
  if (preferredEd25519Engine === 'openssl') {
    app.log.warn('sodium-native did not load: access tokens are signed with OpenSSL, about twice the CPU per signature (docs/benchmarks.md)')
  }
  // loadConfig refuses this in production
  if (config.TOTP_ENCRYPTION_KEYS.length === 0) {
    app.log.warn('TOTP_ENCRYPTION_KEYS is not set: authenticator secrets are sealed with an ephemeral key and stop working on restart. Not for production.')
  }
}

/** Builds the whole API; tests call this with their own config, the server entry with the environment's. */
export async function buildApp (config: Config, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  const { logger, spanExporter, monitorMongoCommands, ...domainOverrides } = overrides
  const app = Fastify(serverOptions(config, logger)).withTypeProvider<TypeBoxTypeProvider>()

  // a JSON API: anything but JSON is a 415, not a string handed to validation
  app.removeContentTypeParser('text/plain')
  app.addSchema(FieldErrorSchema)
  app.addSchema(ProblemSchema)

  // infrastructure; tracing first, so it sees every hook and route
  const traces = startTracing(config, spanExporter)
  await app.register(tracing, { tracing: traces })
  await app.register(metrics, { config })
  await app.register(responseHeaders)
  await app.register(problem)
  await app.register(cors, { config })
  await app.register(loadShedding, { config })
  await app.register(redis, { config })
  await app.register(mongo, { config, monitorCommands: traces !== null || monitorMongoCommands === true })
  await app.register(openapi, { config })
  await app.register(rateLimit, { config, keyPrefix: overrides.redisKeyPrefix ?? '' })
  if (isEmbedded(config)) {
    app.log.warn('EMBEDDED MODE: no REDIS_URL/MONGODB_URL, so codes, users and sessions live in this process and vanish on restart; JWTs are signed with an ephemeral key. Not for production.')
  }

  // domain services: built once by the composition root, as the worker builds them, then decorated onto the app
  await app.register(auditContext)
  const domain = await buildDomain(config, {
    ...domainOverrides,
    redis: app.redis,
    mongo: app.mongo,
    logger: app.log,
    metrics: app.metrics,
    auditContext: currentAuditContext
  })
  await app.register(services, { domain })
  logDomainChoices(app, config)
  await app.register(auth, { config })
  await app.register(sessionCookie, { config })
  await app.register(adminAuth, { config })

  // routes
  await app.register(health, { pingTimeoutMs: config.STORE_TIMEOUT_MS })
  await app.register(wellKnownRoutes, { config })
  await app.register(authRoutes, { prefix: '/v1/auth', config })
  await app.register(meRoutes, { prefix: '/v1/me', config })
  await app.register(meActivityRoutes, { prefix: '/v1/me/activity', config })
  await app.register(meExportRoutes, { prefix: '/v1/me/export', config })
  await app.register(meAuthenticatorRoutes, { prefix: '/v1/me/totp', config })
  await app.register(authAuthenticatorRoutes, { prefix: '/v1/auth', config })
  // always registered, so the one OpenAPI document lists them; without WEBAUTHN_RP_ID they answer 404
  await app.register(mePasskeyRoutes, { prefix: '/v1/me/passkeys', config })
  await app.register(passkeyLoginRoutes, { prefix: '/v1/auth', config })
  // always registered, so the one OpenAPI document lists them; without ADMIN_API_KEYS they answer 404
  await app.register(adminUserRoutes, { prefix: '/v1/admin', config })
  await app.register(adminPasskeyRoutes, { prefix: '/v1/admin', config })
  if (app.outboxEnabled) {
    await app.register(devOutboxRoutes, { prefix: '/v1/dev', config })
    await app.register(devTemplateRoutes, { prefix: '/v1/dev', config })
    await app.register(demoRoutes)
  }

  return app
}
