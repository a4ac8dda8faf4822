import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../src/config.ts'
import { AppError } from '../src/errors.ts'
import { matchAdminKey, parseAdminKeys } from '../src/admin/admin-keys.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Hook of the admin route context: an `Authorization: Bearer <key>` whose SHA-256 is in ADMIN_API_KEYS, or 401.
     * Without keys configured the admin API does not exist on this instance: 404, as for any unknown route.
     */
    authenticateAdmin: (request: FastifyRequest) => Promise<void>
  }
  interface FastifyRequest {
    /** the name of the admin key that authenticated the request (ADMIN_API_KEYS), set by authenticateAdmin */
    adminKeyName: string
  }
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/

/**
 * Admin authentication, apart from the users' (plugins/auth.ts): a service key is never an access token, so a key
 * is refused on user routes (it is no JWT) and an access token here (no configured hash matches it).
 */
async function adminAuthPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const keys = parseAdminKeys(config.ADMIN_API_KEYS)
  app.decorateRequest('adminKeyName', '')
  app.decorate('authenticateAdmin', async (request: FastifyRequest) => {
    if (keys.length === 0) throw new AppError('not_found', { detail: `No route for ${request.method} ${request.url.split('?')[0] ?? '/'}.` })
    const header = request.headers.authorization
    const presented = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined
    const name = presented === undefined ? null : matchAdminKey(keys, presented)
    if (name === null) throw new AppError('unauthorized', { detail: 'A valid admin API key is required.' })
    request.adminKeyName = name
  })
}

export default fp(adminAuthPlugin, { name: 'admin-auth', fastify: '5.x' })
