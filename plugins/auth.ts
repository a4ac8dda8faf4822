import fp from 'fastify-plugin'
import jwt from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../src/config.ts'
import { AppError } from '../src/errors.ts'
import type { User } from '../src/users/user-repository.ts'
import { hashRefreshToken, newRefreshToken, newSessionId } from '../src/sessions/tokens.ts'

/** The claims of an access token, as this service signs them. */
export interface AccessClaims {
  sub: string
  sid: string
  amr: string[]
  iss: string
  aud: string
  exp: number
  iat: number
}

export interface TokenPair {
  accessToken: string
  refreshToken: string
  tokenType: 'Bearer'
  expiresIn: number
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string, sid: string, amr: string[] }
    user: AccessClaims
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook for protected route contexts: a valid access token of a live session, or 401 */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** opens a session (one refresh-token family) and signs its first pair */
    openSession: (user: User, amr: string[], request: FastifyRequest) => Promise<TokenPair>
    /** signs an access token for an existing session and pairs it with the given refresh token */
    signPair: (userId: string, sessionId: string, amr: string[], refreshToken: string) => Promise<TokenPair>
  }
}

/**
 * Access tokens: EdDSA JWTs with kid/iss/aud/sub/sid/exp; verification pins the algorithm, the issuer and
 * audience, resolves the key by kid only from our own key set, and refuses tokens of ended sessions.
 */
async function authPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const { signingKeys, sessions, now } = app
  const accessTtl = config.ACCESS_TOKEN_TTL_SECONDS

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
    sign: { algorithm: 'EdDSA', kid: signingKeys.current.kid, iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE, expiresIn: `${accessTtl}s` },
    verify: {
      algorithms: ['EdDSA'],
      allowedIss: config.JWT_ISSUER,
      allowedAud: config.JWT_AUDIENCE,
      requiredClaims: ['sub', 'sid', 'iss', 'aud', 'exp'],
      cache: false
    },
    // a token outlives nothing: the session it names must still be live
    trusted: async (_request: FastifyRequest, claims: unknown) => {
      const sid = (claims as { sid?: unknown }).sid
      return typeof sid === 'string' && await sessions.isActive(sid, now())
    }
  })

  app.decorate('authenticate', async (request: FastifyRequest) => {
    try {
      await request.jwtVerify()
    } catch (error) {
      if (error instanceof AppError && error.code !== 'unauthorized') throw error
      throw new AppError('unauthorized', { detail: 'A valid bearer access token is required.', cause: error })
    }
  })

  const signPair = async (userId: string, sessionId: string, amr: string[], refreshToken: string): Promise<TokenPair> => ({
    accessToken: await app.jwt.sign({ sub: userId, sid: sessionId, amr }),
    refreshToken,
    tokenType: 'Bearer',
    expiresIn: accessTtl
  })
  app.decorate('signPair', signPair)

  app.decorate('openSession', async (user: User, amr: string[], request: FastifyRequest) => {
    // the id first: the refresh token names its session
    const id = newSessionId()
    const refreshToken = newRefreshToken(id)
    const at = now()
    const session = await sessions.create({
      id,
      userId: user.id,
      tokenHash: hashRefreshToken(refreshToken),
      amr,
      now: at,
      expiresAt: new Date(at.getTime() + config.REFRESH_TOKEN_TTL_SECONDS * 1000),
      userAgent: request.headers['user-agent']?.slice(0, 200) ?? null,
      ip: request.ip
    })
    return signPair(user.id, session.id, amr, refreshToken)
  })
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['services'] })
