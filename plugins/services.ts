import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Domain } from '../src/domain.ts'
import type { KeyedStores, DocumentStores } from '../src/stores/create-stores.ts'
import type { OtpEngine } from '../src/otp/otp-engine.ts'
import type { Delivery } from '../src/delivery/delivery.ts'
import type { Outbox } from '../src/delivery/outbox.ts'
import type { DeliveryQueue } from '../src/delivery/delivery-queue.ts'
import type { SmsGuard } from '../src/delivery/sms-guard.ts'
import type { Notifier } from '../src/delivery/notices.ts'
import type { UserRepository } from '../src/users/user-repository.ts'
import type { SessionRepository } from '../src/sessions/session-repository.ts'
import type { RevocationStore } from '../src/sessions/revocation-store.ts'
import type { SigningKeys } from '../src/sessions/tokens.ts'
import type { ChallengeIssuer } from '../src/auth/challenge-issuer.ts'
import type { SessionService } from '../src/auth/session-service.ts'
import type { LoginService } from '../src/auth/login-service.ts'
import type { AccountService } from '../src/auth/account-service.ts'
import type { ContactService } from '../src/auth/contact-service.ts'
import type { AuthenticatorEnrolment } from '../src/auth/authenticator-enrolment.ts'
import type { TotpAuthenticator } from '../src/totp/totp-authenticator.ts'
import type { MfaChallenges } from '../src/totp/mfa-challenges.ts'
import type { AuditLog } from '../src/audit/audit-log.ts'
import type { AdminUsers } from '../src/admin/admin-users.ts'
import type { AdminPasskeys } from '../src/admin/admin-passkeys.ts'
import type { PasskeyRegistration } from '../src/passkeys/passkey-registration.ts'
import type { PasskeyLogin } from '../src/auth/passkey-login.ts'
import type { AccountErasure } from '../src/auth/account-erasure.ts'
import type { AccountExport } from '../src/auth/account-export.ts'
import type { IdentifierUndoLinks } from '../src/auth/identifier-undo-links.ts'

declare module 'fastify' {
  interface FastifyInstance {
    otp: OtpEngine
    delivery: Delivery
    outbox: Outbox
    /**
     * codes waiting to be sent: start and resend enqueue, a worker (this process when sendsInProcess) sends
     */
    deliveryQueue: DeliveryQueue
    /** security-event batches waiting to be POSTed to AUDIT_WEBHOOK_URL: a queue apart, so codes never wait on it */
    auditWebhookQueue: DeliveryQueue
    /** SMS-pumping guard: region allow-list, textable number types, hourly budget per region */
    smsGuard: SmsGuard
    /** the dev outbox receives at least one channel, so GET /v1/dev/outbox exists */
    outboxEnabled: boolean
    users: UserRepository
    sessions: SessionRepository
    /** ended sessions and users' "not before" times, read on every authenticated request */
    revocations: RevocationStore
    /** starts and resends challenges behind the SMS guard, and delivers their codes */
    challengeIssuer: ChallengeIssuer
    /** security notices to users (an identifier changed, sign-in throttled), sent by the delivery worker */
    notifier: Notifier
    signingKeys: SigningKeys
    /** the adapters of every port, Redis/MongoDB or in-process, chosen once from config */
    stores: KeyedStores & DocumentStores
    /** open, refresh and end sessions, and whether an access token still counts */
    sessionService: SessionService
    /** passwordless login, from asking for a code to holding a session */
    loginService: LoginService
    /** what operators do to accounts (disable) */
    accounts: AccountService
    /** the user's own sign-in identifiers: step-up, adding or replacing one */
    contacts: ContactService
    /** the links that let a replaced email or phone take the change back */
    undoLinks: IdentifierUndoLinks
    /** binding and unbinding the user's authenticator app */
    authenticatorEnrolment: AuthenticatorEnrolment
    totp: TotpAuthenticator
    /** deleting an account, completely */
    erasure: AccountErasure
    /** what the service holds of a user, for the user to take away */
    accountExport: AccountExport
    /** what the admin API does to accounts */
    adminUsers: AdminUsers
    adminPasskeys: AdminPasskeys
    /** null while passkeys are off (no WEBAUTHN_RP_ID) */
    passkeyRegistration: PasskeyRegistration | null
    /** null while passkeys are off (no WEBAUTHN_RP_ID) */
    passkeyLogin: PasskeyLogin | null
    mfa: MfaChallenges
    /** the security activity log: record events, read a user's own */
    audit: AuditLog
    /** the clock the HTTP layer uses; tests inject one */
    now: () => Date
  }
}

/**
 * Decorates the app with the domain that src/domain.ts built (as the worker builds it), and closes it when the
 * app closes: after the routes, before Redis and MongoDB (plugins close in reverse order).
 */
async function servicesPlugin (app: FastifyInstance, { domain }: { domain: Domain }) {
  const { stores, delivery } = domain
  app.decorate('stores', stores)
  app.decorate('users', stores.users)
  app.decorate('sessions', stores.sessions)
  app.decorate('revocations', stores.revocations)
  app.decorate('outbox', stores.outbox)
  app.decorate('outboxEnabled', delivery.usesOutbox.email || delivery.usesOutbox.sms)
  app.decorate('otp', domain.otp)
  app.decorate('delivery', delivery)
  app.decorate('deliveryQueue', domain.deliveryQueue)
  app.decorate('auditWebhookQueue', domain.auditWebhookQueue)
  app.decorate('smsGuard', domain.smsGuard)
  app.decorate('notifier', domain.notifier)
  app.decorate('challengeIssuer', domain.challengeIssuer)
  app.decorate('signingKeys', domain.signingKeys)
  app.decorate('sessionService', domain.sessionService)
  app.decorate('loginService', domain.loginService)
  app.decorate('accounts', domain.accounts)
  app.decorate('contacts', domain.contacts)
  app.decorate('undoLinks', domain.undoLinks)
  app.decorate('authenticatorEnrolment', domain.authenticatorEnrolment)
  app.decorate('totp', domain.totp)
  app.decorate('adminUsers', domain.adminUsers)
  app.decorate('adminPasskeys', domain.adminPasskeys)
  app.decorate('passkeyRegistration', domain.passkeyRegistration)
  app.decorate('passkeyLogin', domain.passkeyLogin)
  app.decorate('erasure', domain.erasure)
  app.decorate('accountExport', domain.accountExport)
  app.decorate('mfa', domain.mfa)
  app.decorate('audit', domain.audit)
  app.decorate('now', domain.now)
  app.addHook('onClose', async () => { await domain.close() })
}

export default fp(servicesPlugin, { name: 'services', fastify: '5.x', dependencies: ['redis', 'mongo', 'audit-context'] })
