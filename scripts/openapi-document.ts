import { loadConfig } from '../src/config.ts'
import { buildApp } from '../src/app.ts'

/**
 * The OpenAPI document as the app generates it from its route schemas, in YAML. Built on the embedded defaults
 * (so the dev outbox route is included) with every optional route and field on (an issuer URL, cookie sessions) and
 * no environment, so the result depends on the code alone.
 */
export async function renderOpenApiYaml (): Promise<string> {
  const app = await buildApp(loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent', TOTP_PRIMARY_LOGIN: 'true', JWT_ISSUER: 'http://localhost:3000', SESSION_COOKIE: 'on' }), { logger: false })
  try {
    await app.ready()
    return app.swagger({ yaml: true })
  } finally {
    await app.close()
  }
}
