import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../src/config.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the client may leave the body out: it is validated as `{}`, and the document marks it optional */
    optionalBody?: boolean
  }
}

interface Operation { operationId?: string, requestBody?: { required?: boolean } }

// only a body left out: a JSON `null` the client sent is a body, and must match the schema (400 otherwise)
const DOCS_CSP = [
  "default-src 'self'", "base-uri 'self'", "object-src 'none'", "frame-ancestors 'none'", "form-action 'self'",
  "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:"
].join('; ')

const emptyBody = async (request: FastifyRequest) => { if (request.body === undefined) request.body = {} }

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json with interactive docs at /docs. */
async function openapiPlugin (app: FastifyInstance, { config }: { config: Config }) {
  // @fastify/swagger marks every body it documents as required
  const optionalBodies = new Set<string>()
  app.addHook('onRoute', (route) => {
    if (route.config?.optionalBody !== true) return
    if (route.schema?.operationId) optionalBodies.add(route.schema.operationId)
    route.preValidation = [emptyBody, ...[route.preValidation ?? []].flat()]
  })
  const markOptionalBodies = (document: { paths?: Record<string, Record<string, Operation>> }) => {
    for (const operation of Object.values(document.paths ?? {}).flatMap((item) => Object.values(item))) {
      if (operation.requestBody && operation.operationId && optionalBodies.has(operation.operationId)) {
        operation.requestBody.required = false
      }
    }
    return document
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'otp-gate',
        version: '1.0.0',
        description: 'Passwordless login: one-time codes by email or SMS, JWT sessions with refresh rotation. Every error is application/problem+json (RFC 9457) with a stable `code`.',
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' }
      },
      // relative unless configured: the document is served by the API it describes
      servers: [{ url: config.PUBLIC_BASE_URL ?? '/', description: config.PUBLIC_BASE_URL ? 'this deployment' : 'the server that serves this document' }],
      tags: [
        { name: 'auth', description: 'Start, resend and verify one-time codes; refresh and end sessions' },
        { name: 'me', description: 'The signed-in user, their sessions and contacts' },
        { name: 'totp', description: 'Authenticator apps (TOTP) and recovery codes: enrolment, second factor, TOTP login' },
        { name: 'passkeys', description: 'Passkeys (WebAuthn): adding and managing them, signing in with one alone or as the second factor. Only with WEBAUTHN_RP_ID set; otherwise these routes answer 404' },
        { name: 'keys', description: 'Public signing keys' },
        { name: 'admin', description: 'Operators and product backends: users, sessions, unblocking. Needs an admin API key (ADMIN_API_KEYS); without keys configured these routes answer 404' },
        { name: 'dev', description: 'Development helpers, absent in production' },
        { name: 'health', description: 'Liveness and readiness probes' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /v1/auth/otp/verify or /v1/auth/token/refresh' },
          adminApiKey: { type: 'http', scheme: 'bearer', description: 'An admin API key (npm run admin-key -- <name>), its SHA-256 in ADMIN_API_KEYS; never an access token' }
        }
      }
    },
    // a plain copy: objects shared between routes (a `security` list) would otherwise come out as YAML anchors
    transformObject: (document) => markOptionalBodies(JSON.parse(JSON.stringify('openapiObject' in document ? document.openapiObject : document.swaggerObject))),
    refResolver: {
      // components are named after the schema $id (Problem, FieldError, ...)
      buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`)
    }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, displayOperationId: true, validatorUrl: null },
    // the page and its assets are all ours: scripts only from this server, no framing; swagger-ui sets inline styles
    staticCSP: DOCS_CSP
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}

export default fp(openapiPlugin, { name: 'openapi', fastify: '5.x' })
