import fp from 'fastify-plugin'
import jwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../src/config.ts'
import { AppError } from '../src/errors.ts'
import type { AccessTokenPayload, ClientInfo } from '../src/auth/session-service.ts'
import type { Caller } from '../src/auth/account-proof.ts'
import { ACCESS_TOKEN_TYP, accessTokenSignOptions } from '../src/sessions/access-tokens.ts'
import { unavailableIfStoreError } from '../src/stores/store-errors.ts'
import type { User } from '../src/users/user-repository.ts'

/** The claims of an access token, as this service signs them. */
export interface AccessClaims extends Omit<AccessTokenPayload, 'auth_time' | 'jti'> {
  /** absent from tokens signed before it was added: such a token never counts as a recent sign-in */
  auth_time?: number
  /** absent from tokens signed before it was added */
  jti?: string
  iss: string
  aud: string
  exp: number
  iat: number
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenPayload
    user: AccessClaims
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Hook for protected route contexts, run after the per-IP limiter (`preParsing`, as the limiter is a route's
     * `onRequest`): a valid access token whose session was not ended and whose user is active, or 401.
     */
    authenticate: (request: FastifyRequest) => Promise<void>
  }
  interface FastifyRequest {
    /** The active user of the access token, read by `app.authenticate`: routes behind it use it, never read again. */
    account: User
  }
}

const VERIFIED_TOKENS_KEPT = 10_000
/** clock drift between our own instances that a fresh token's iat may show */
const IAT_TOLERANCE_SECONDS = 5

/** What a session records of the client that opened it. */
export const clientInfo = (request: FastifyRequest): ClientInfo => ({ userAgent: request.headers['user-agent'] ?? null, ip: request.ip })

/** Who asks, as the access token says. */
export const callerOf = (claims: AccessClaims): Caller => ({
  userId: claims.sub, sessionId: claims.sid, authTime: typeof claims.auth_time === 'number' ? claims.auth_time : undefined
})

/**
 * Access tokens: EdDSA JWTs with kid/iss/aud/sub/sid/exp; verification pins the algorithm, the issuer and
 * audience, and resolves the key by kid only from our own key set. Whether the session still counts comes from
 * the revocation state in Redis, and whether the user is still active from one read of the user by _id, made
 * beside it (SessionService.authenticate): a status written straight to the database counts at once.
 */
async function authPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const { signingKeys, sessionService, now } = app

  await app.register(jwt, {
    secret: {
      private: signingKeys.current.privateKeyPem,
      public: async (_request: FastifyRequest, token: unknown) => {
        const kid = (token as { header?: { kid?: unknown } }).header?.kid
        const key = typeof kid === 'string' ? signingKeys.verify.get(kid) : undefined
        if (key === undefined) throw new AppError('unauthorized', { detail: 'The access token is not signed by a known key.' })
        return key
      }
    },
    decode: { complete: true },
    // app.jwt.sign signs as the domain does (src/sessions/access-tokens.ts)
    sign: accessTokenSignOptions(config, signingKeys),
    verify: {
      algorithms: ['EdDSA'],
      checkTyp: ACCESS_TOKEN_TYP,
      // counted from iat: a token whose exp says more than the lifetime is not one we signed
      maxAge: `${config.ACCESS_TOKEN_TTL_SECONDS}s`,
      allowedIss: config.JWT_ISSUER,
      allowedAud: config.JWT_AUDIENCE,
      requiredClaims: ['sub', 'sid', 'iss', 'aud', 'exp', 'iat'],
      // A client sends one access token many times: its signature is checked once, then the result is kept (keyed
      // by a hash of the token, never past its exp). Whether its session still counts is checked on every request.
      cache: VERIFIED_TOKENS_KEPT
    }
  })

  app.decorateRequest('account', null as unknown as User)
  app.decorate('authenticate', async (request: FastifyRequest) => {
    try {
      await request.jwtVerify()
    } catch (error) {
      if (error instanceof AppError && error.code !== 'unauthorized') throw error
      throw new AppError('unauthorized', { detail: 'A valid bearer access token is required.', cause: error })
    }
    const { sub, sid, iat } = request.user
    // fast-jwt checks iat only against maxAge; a token issued in the future is checked here, cache or not
    if (typeof sub !== 'string' || typeof sid !== 'string' || typeof iat !== 'number' || iat > now().getTime() / 1000 + IAT_TOLERANCE_SECONDS) {
      throw new AppError('unauthorized', { detail: 'A valid bearer access token is required.' })
    }
    // a store failure here is a 503, never a 401: clients must not throw good tokens away during an outage
    request.account = await sessionService.authenticate(request.user, iat).catch((error: unknown) => {
      throw unavailableIfStoreError(error)
    })
  })
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['services'] })
