import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { LoginService } from '../src/auth/login-service.ts'
import { AccountService } from '../src/auth/account-service.ts'
import { ContactService } from '../src/auth/contact-service.ts'
import { ReauthProofs, reauthProofKey } from '../src/auth/reauth-proofs.ts'
import { AccountProof } from '../src/auth/account-proof.ts'
import { AuthenticatorEnrolment } from '../src/auth/authenticator-enrolment.ts'
import { loadRefreshTokenKey } from '../src/sessions/tokens.ts'

/** how recent a sign-in or a step-up must be to change a sign-in identifier, and how long a step-up proof lives */
export const REAUTH_WINDOW_SECONDS = 300

declare module 'fastify' {
  interface FastifyInstance {
    /** passwordless login, from asking for a code to holding a session */
    loginService: LoginService
    /** what operators do to accounts (disable) */
    accounts: AccountService
    /** the user's own sign-in identifiers: step-up, adding or replacing one */
    contacts: ContactService
    /** binding and unbinding the user's authenticator app */
    authenticatorEnrolment: AuthenticatorEnrolment
  }
}

async function loginPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const { otp, challengeIssuer, users, sessionService, totp, mfa, notifier, now } = app
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
  const proofKey = reauthProofKey(loadRefreshTokenKey(config))
  const proofs = new ReauthProofs({ key: proofKey, ttlSeconds: REAUTH_WINDOW_SECONDS, now })
  const accountProof = new AccountProof({ proofs, totp, recentSignInSeconds: REAUTH_WINDOW_SECONDS, now })
  app.decorate('contacts', new ContactService({
    otp,
    issuer: challengeIssuer,
    users,
    sessions: sessionService,
    notifier,
    proofs,
    accountProof,
    now
  }))
  app.decorate('authenticatorEnrolment', new AuthenticatorEnrolment({ totp, accountProof, notifier }))
}

export default fp(loginPlugin, { name: 'login', fastify: '5.x', dependencies: ['services', 'totp', 'auth'] })
