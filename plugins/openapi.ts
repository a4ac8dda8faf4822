import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json with interactive docs at /docs. */
async function openapiPlugin (app: FastifyInstance, { config }: { config: Config }) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'otp-gate',
        version: '1.0.0',
        description: 'Passwordless login: one-time codes by email or SMS, JWT sessions with refresh rotation. Every error is application/problem+json (RFC 9457) with a stable `code`.',
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' }
      },
      servers: [{ url: config.PUBLIC_BASE_URL ?? 'http://localhost:3000', description: config.PUBLIC_BASE_URL ? 'this deployment' : 'local development' }],
      tags: [
        { name: 'auth', description: 'Start, resend and verify one-time codes; refresh and end sessions' },
        { name: 'me', description: 'The signed-in user, their sessions and contacts' },
        { name: 'keys', description: 'Public signing keys' },
        { name: 'dev', description: 'Development helpers, absent in production' },
        { name: 'health', description: 'Liveness and readiness probes' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /v1/auth/otp/verify or /v1/auth/token/refresh' }
        }
      }
    },
    refResolver: {
      // components are named after the schema $id (Problem, FieldError, ...)
      buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`)
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true, displayOperationId: true } })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}

export default fp(openapiPlugin, { name: 'openapi', fastify: '5.x' })
