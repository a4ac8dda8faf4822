import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { LoginService } from '../src/auth/login-service.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** passwordless login, from asking for a code to holding a session */
    loginService: LoginService
  }
}

async function loginPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const { otp, challengeIssuer, users, sessionService, totp, mfa, now } = app
  app.decorate('loginService', new LoginService({
    otp,
    issuer: challengeIssuer,
    users,
    sessions: sessionService,
    totp,
    mfa,
    signup: config.SIGNUP,
    mfaPolicy: config.MFA,
    now
  }))
}

export default fp(loginPlugin, { name: 'login', fastify: '5.x', dependencies: ['services', 'totp', 'auth'] })
