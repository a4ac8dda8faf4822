import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { LoginService } from '../src/auth/login-service.ts'
import { AccountService } from '../src/auth/account-service.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** passwordless login, from asking for a code to holding a session */
    loginService: LoginService
    /** what operators do to accounts (disable) */
    accounts: AccountService
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
    now,
    audit: app.audit
  }))
  app.decorate('accounts', new AccountService({ users, sessions: sessionService }))
}

export default fp(loginPlugin, { name: 'login', fastify: '5.x', dependencies: ['services', 'totp', 'auth'] })
