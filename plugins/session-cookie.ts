import fp from 'fastify-plugin'
import cookie from '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../src/config.ts'
import { AppError } from '../src/errors.ts'
import { sessionIdOfRefreshToken, sessionStartOf } from '../src/sessions/tokens.ts'

export interface SessionCookie {
  /**
   * What a sign-in or refresh answers: for a browser request with SESSION_COOKIE=on the refresh token goes into
   * the cookie and leaves the body; anything else gets the body as it is.
   */
  handOver: <Answer extends { refreshToken: string }>(request: FastifyRequest, reply: FastifyReply, answer: Answer) =>
    Answer | Omit<Answer, 'refreshToken'>
  /**
   * The refresh token a request presents: the body's, else the cookie's, which only a browser request of an
   * allowed Origin may use (403 origin_not_allowed: a form post from another site). Undefined when neither.
   */
  presented: (request: FastifyRequest, bodyToken: string | undefined) => string | undefined
  /** Logout: the cookie is emptied, for a request that carried it or comes from a browser. */
  clear: (request: FastifyRequest, reply: FastifyReply) => void
}

/**
 * The device token of a browser (src/auth/device-tokens.ts) with SESSION_COOKIE=on: an httpOnly cookie whose Path
 * reaches only the code routes (/v1/auth/otp and below), so that the page's scripts never hold it. Native apps, and
 * every client with SESSION_COOKIE=off, get and send it in bodies.
 */
export interface DeviceCookie {
  /** A sign-in's answer: for a browser request its deviceToken goes into the cookie and leaves the body. */
  handOver: <Answer extends { deviceToken?: string }>(request: FastifyRequest, reply: FastifyReply, answer: Answer) =>
    Answer | Omit<Answer, 'deviceToken'>
  /** The device token a code request presents: the body's, else the cookie's (a browser request only). */
  presented: (request: FastifyRequest, bodyToken: string | undefined) => string | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    sessionCookie: SessionCookie
    deviceCookie: DeviceCookie
  }
}

const NAME = 'otp-gate-refresh'
// one cookie per route that reads it (a browser sends a cookie to its Path and below): refresh, and logout with
// logout/all; the sign-in routes and the rest of the API never receive the token
const PATHS = ['/v1/auth/token/refresh', '/v1/auth/logout']
const DEVICE_NAME = 'otp-gate-device'
// the code request (and resend and verify) routes: the only ones that read it
const DEVICE_PATH = '/v1/auth/otp'
const LOOPBACK = new Set(['localhost', '127.0.0.1'])
const SAME_SITE = { lax: 'lax', strict: 'strict', none: 'none' } as const

/**
 * The httpOnly refresh cookie of SESSION_COOKIE=on, so that a browser app's scripts never hold a refresh token.
 * A browser request is one whose Origin is the API's own (PUBLIC_BASE_URL, else the scheme and host it was
 * reached by) or listed in CORS_ORIGINS. The cookie is Secure, and then named with the __Secure- prefix, except
 * for an API on http://localhost or http://127.0.0.1 (development); SameSite=None makes it Secure always.
 */
async function sessionCookiePlugin (app: FastifyInstance, { config }: { config: Config }) {
  const { browserOrigins, now } = app
  await app.register(cookie, { hook: false })
  const on = config.SESSION_COOKIE === 'on'
  const publicOrigin = config.PUBLIC_BASE_URL === undefined ? undefined : new URL(config.PUBLIC_BASE_URL)

  const ownOrigin = (request: FastifyRequest) => publicOrigin?.origin ?? `${request.protocol}://${request.host}`
  const isBrowser = (request: FastifyRequest) => {
    const origin = request.headers.origin
    return origin !== undefined && (origin === ownOrigin(request) || browserOrigins.listed(origin))
  }
  const attributes = (request: FastifyRequest, name = NAME) => {
    const { protocol, hostname } = publicOrigin ?? { protocol: `${request.protocol}:`, hostname: request.hostname }
    const secure = config.SESSION_COOKIE_SAMESITE === 'none' || !(protocol === 'http:' && LOOPBACK.has(hostname))
    return {
      name: secure ? `__Secure-${name}` : name,
      options: { httpOnly: true, secure, sameSite: SAME_SITE[config.SESSION_COOKIE_SAMESITE] }
    }
  }
  const carried = (request: FastifyRequest, name = NAME): string | undefined => {
    const header = request.headers.cookie
    return header === undefined ? undefined : app.parseCookie(header)[attributes(request, name).name]
  }

  // with SESSION_COOKIE=on, like the refresh token: a deployment that keeps refresh tokens in bodies (off) keeps
  // device tokens there too
  app.decorate('deviceCookie', {
    handOver (request, reply, answer) {
      if (!on || answer.deviceToken === undefined || !isBrowser(request)) return answer
      const { deviceToken, ...rest } = answer
      const { name, options } = attributes(request, DEVICE_NAME)
      reply.setCookie(name, deviceToken, { ...options, path: DEVICE_PATH, maxAge: config.DEVICE_TOKEN_TTL_SECONDS })
      return rest
    },
    presented (request, bodyToken) {
      if (bodyToken !== undefined || !on) return bodyToken
      // a form post from another site carries the cookie too: only the pages the API serves may use it
      return isBrowser(request) ? carried(request, DEVICE_NAME) : undefined
    }
  } satisfies DeviceCookie)

  app.decorate('sessionCookie', {
    handOver (request, reply, answer) {
      if (!on || !isBrowser(request)) return answer
      const { refreshToken, ...rest } = answer
      // the session's remaining absolute lifetime: no refresh keeps it longer
      const started = sessionStartOf(sessionIdOfRefreshToken(refreshToken)).getTime()
      const maxAge = Math.max(0, Math.floor((started - now().getTime()) / 1000) + config.SESSION_MAX_AGE_SECONDS)
      const { name, options } = attributes(request)
      for (const path of PATHS) reply.setCookie(name, refreshToken, { ...options, path, maxAge })
      return rest
    },
    presented (request, bodyToken) {
      if (bodyToken !== undefined || !on) return bodyToken
      const token = carried(request)
      if (token === undefined) return undefined
      if (!isBrowser(request)) {
        throw new AppError('origin_not_allowed', { detail: 'The session cookie is only accepted from the API\'s own origin and CORS_ORIGINS.' })
      }
      return token
    },
    clear (request, reply) {
      if (!on || (carried(request) === undefined && !isBrowser(request))) return
      const { name, options } = attributes(request)
      for (const path of PATHS) reply.clearCookie(name, { ...options, path })
    }
  } satisfies SessionCookie)
}

export default fp(sessionCookiePlugin, { name: 'session-cookie', fastify: '5.x', dependencies: ['cors', 'services'] })
