// The composition root: the whole domain, built once from config on the connections a process made. The API
// (src/app.ts, which decorates the Fastify instance with it) and `npm run worker` (src/worker.ts) both call it.
import { createHmac } from 'node:crypto'
import { randomBytes } from './random-bytes.ts'
import type { Cluster, Redis } from 'ioredis'
import type { Connection } from 'mongoose'
import { sendsInProcess, type Config } from './config.ts'
import { createDocumentStores, createKeyedStores, type KeyedStores } from './stores/create-stores.ts'
import { createReplicaAck } from './stores/replica-ack.ts'
import { NO_METRICS, type Metrics } from './metrics/metrics.ts'
import { createOtpEngine } from './otp/otp-engine.ts'
import { createDelivery, type DeliveryLogger } from './delivery/delivery.ts'
import { CircuitBoard } from './delivery/circuit-board.ts'
import { RepeatedErrorLog } from './telemetry/repeated-error-log.ts'
import { createDeliveryQueue } from './delivery/create-delivery-queue.ts'
import { createJobConsumer } from './delivery/job-consumer.ts'
import { createJobHandlers } from './delivery/job-handlers.ts'
import type { QueueName } from './delivery/job-kinds.ts'
import { createJobCipher } from './delivery/job-cipher.ts'
import { QueuedNotifier } from './delivery/notices.ts'
import { DAY_MS } from './delivery/sms-fraud-store.ts'
import { hmacClientKey, SmsGuard, type SmsBlock, type SmsGuardOptions } from './delivery/sms-guard.ts'
import { minutesOf } from './delivery/templates/render.ts'
import type { AuditContext } from './audit/audit-event.ts'
import { AuditLog } from './audit/audit-log.ts'
import { AuditWebhookBatcher } from './audit/audit-webhook-batcher.ts'
import { createAuditWebhookHandler } from './audit/audit-webhook-handler.ts'
import { loadRefreshTokenKey, loadSigningKeys } from './sessions/tokens.ts'
import { createAccessTokenSigner } from './sessions/access-tokens.ts'
import { throttleLimits } from './throttle/throttling.ts'
import { parseEncryptionKeys, SecretBox } from './totp/secret-box.ts'
import { TotpAuthenticator } from './totp/totp-authenticator.ts'
import { MfaChallenges } from './totp/mfa-challenges.ts'
import { ChallengeIssuer } from './auth/challenge-issuer.ts'
import { createSessionService } from './auth/session-service.ts'
import { LoginService } from './auth/login-service.ts'
import { AccountService } from './auth/account-service.ts'
import { ContactService } from './auth/contact-service.ts'
import { ReauthProofs, reauthProofKey } from './auth/reauth-proofs.ts'
import { IdentifierUndoLinks, identifierUndoKey } from './auth/identifier-undo-links.ts'
import { AccountProof } from './auth/account-proof.ts'
import { AuthenticatorEnrolment } from './auth/authenticator-enrolment.ts'
import { AdminUsers } from './admin/admin-users.ts'
import { AdminPasskeys } from './admin/admin-passkeys.ts'
import { AccountErasure } from './auth/account-erasure.ts'
import { AccountExport } from './auth/account-export.ts'
import { DeviceTokens } from './auth/device-tokens.ts'
import { webAuthnSettings } from './config/webauthn-origins.ts'
import { WebAuthnCeremonies } from './passkeys/webauthn-ceremonies.ts'
import { PasskeyAuthenticator } from './passkeys/passkey-authenticator.ts'
import { PasskeyRegistration } from './passkeys/passkey-registration.ts'
import { PasskeyLogin } from './auth/passkey-login.ts'

/** how recent a sign-in or a step-up must be to change a sign-in identifier, and how long a step-up proof lives */
const REAUTH_WINDOW_SECONDS = 300
const MFA_TOKEN_TTL_SECONDS = 300

/** A pino logger, as Fastify's and the worker's are: one line per event, children per component. */
export interface DomainLogger extends DeliveryLogger {
  /** a line an operator is paged on */
  error (obj: object, msg: string): void
  child (bindings: Record<string, unknown>): DomainLogger
}

/** What tests replace: the clock, the Redis key prefix that keeps parallel test files apart, a hook on refused SMS. */
export interface DomainOverrides {
  now?: () => Date
  redisKeyPrefix?: string
  /** told of every SMS the guard refuses, after its audit event: the hook of sms_guard_blocks_total{reason} */
  onSmsBlock?: (block: SmsBlock) => void
}

export interface DomainDeps extends DomainOverrides {
  /** connected; null: the Redis ports live in this process (the embedded mode) */
  redis: Redis | Cluster | null
  /** connected; null: the MongoDB ports live in this process (the embedded mode, and the worker, which reads none) */
  mongo: Connection | null
  logger: DomainLogger
  metrics?: Metrics
  /** whether this process sends what the delivery queue holds: sendsInProcess(config) unless said (the worker) */
  sendsJobs?: boolean
  /** the client and request the current security event is recorded in; the HTTP layer keeps it per request */
  auditContext?: () => AuditContext | undefined
}

/** Everything the API serves and the worker sends with, and the one way to close it. */
export type Domain = Awaited<ReturnType<typeof buildDomain>>

/** Builds the domain from config: Redis/MongoDB adapters on the connections given, in-process ones otherwise. */
export async function buildDomain (config: Config, deps: DomainDeps) {
  const { redis, logger } = deps
  const now = deps.now ?? (() => new Date())
  const metrics = deps.metrics ?? NO_METRICS
  const keyPrefix = deps.redisKeyPrefix ?? ''
  // REDIS_WAIT_REPLICAS: what a client relies on after its answer is on that many replicas first (0: no WAIT)
  const replicaAck = createReplicaAck(redis, {
    replicas: config.REDIS_WAIT_REPLICAS, timeoutMs: config.REDIS_WAIT_TIMEOUT_MS
  })
  const keyed = createKeyedStores(config, redis, { now, keyPrefix, replicaAck })
  const documents = createDocumentStores(config, deps.mongo, { now })
  const { users, totpCredentials, passkeys, auditEvents } = documents
  await Promise.all([
    users.init(), documents.sessions.init(), totpCredentials.init(), passkeys.init(), auditEvents.init()
  ])

  // a circuit opened by whichever process sends (the API, or `npm run worker`) closes the channel everywhere; read
  // once a second, so a Redis that is down is logged once in 10 s, not at every read
  const circuitErrors = new RepeatedErrorLog(logger)
  const circuits = redis && new CircuitBoard(redis, {
    keyPrefix,
    now: () => now().getTime(),
    onError: (error) => { circuitErrors.warn(error, 'could not read the delivery circuits') }
  })
  const deliveryLogger = logger.child({ component: 'delivery' })
  const delivery = createDelivery(config, {
    outbox: keyed.outbox,
    now,
    logger: deliveryLogger,
    metrics,
    onCircuitOpen: (channel, until) => {
      circuits?.publish(channel, until).catch((error: unknown) => logger.warn({ err: error }, 'could not share an open delivery circuit'))
    }
  })
  circuits?.watch((channel, until) => delivery.openCircuit(channel, until))

  // expiry is the OTP store's clock: Redis's own, or the injected one of the in-process store
  const storeClock = redis ? Date.now : () => now().getTime()
  const cipher = createJobCipher(config)
  const queueDeps = (queue: QueueName) => ({ redis, keyPrefix, logger: logger.child({ component: 'delivery-queue', queue }), now: storeClock, replicaAck })
  // codes and notices; webhook batches have a queue, workers and a concurrency of their own, so a receiver that
  // hangs never holds a code back
  const deliveryQueue = createDeliveryQueue(config, queueDeps('outbound'), 'outbound')
  const auditWebhookQueue = createDeliveryQueue(config, queueDeps('audit-webhook'), 'audit-webhook')
  const notifier = new QueuedNotifier({
    queue: deliveryQueue, cipher, offChannels: delivery.offChannels, now: storeClock
  })
  const auditLogger = logger.child({ component: 'audit' })
  // with AUDIT_WEBHOOK_URL the written events are gathered into batches for the webhook, never sent on a request's path
  const webhookBatcher = config.AUDIT_WEBHOOK_URL === undefined
    ? undefined
    : new AuditWebhookBatcher({
      queue: auditWebhookQueue,
      cipher,
      maxEvents: config.AUDIT_WEBHOOK_BATCH_MAX,
      flushIntervalMs: config.AUDIT_WEBHOOK_FLUSH_MS,
      now: storeClock,
      onError: (error) => auditLogger.warn({ err: error }, 'a webhook batch could not be queued')
    })
  const audit: AuditLog = new AuditLog({
    store: auditEvents,
    now,
    context: deps.auditContext ?? (() => undefined),
    onBatch: webhookBatcher && (async (events) => { webhookBatcher.add(events) }),
    onError: (error, what) => auditLogger.warn({ err: error, what, stats: audit.stats() }, 'security events could not be written')
  })

  const otpThrottleMinutes = minutesOf(config.OTP_THROTTLE_MAX_SECONDS)
  const otp = createOtpEngine(config, keyed.otp, metrics, {
    // the destination's owner hears that someone is guessing (the engine asks at most once an hour, never for a decoy)
    onThrottled: ({ channel, destination, locale }) => {
      notifier.notify({ kind: 'login_throttled', channel, to: destination, locale, minutes: otpThrottleMinutes })
        .catch((error: unknown) => logger.warn({ err: error }, 'could not queue a throttle notice'))
    }
  })
  if (deps.sendsJobs ?? sendsInProcess(config)) {
    const auditWebhook = createAuditWebhookHandler(config, { cipher, now: storeClock })
    const handlers = createJobHandlers({
      cipher, delivery, otp, logger: deliveryLogger, metrics, now: storeClock, auditWebhook
    })
    // one table of handlers; each queue's consumer takes only the kinds that queue carries
    deliveryQueue.start(createJobConsumer(handlers, { queue: 'outbound' }))
    auditWebhookQueue.start(createJobConsumer(handlers, { queue: 'audit-webhook' }))
  }
  const smsGuard = smsGuardOf(config, keyed, {
    now,
    metrics,
    onBlock: (block) => {
      audit.record('sms_guard_block', { identifier: block.destination, reason: block.reason })
      deps.onSmsBlock?.(block)
    },
    // the operator's page: a country is never blocked whole, someone decides (SMS_ALLOWED_COUNTRIES, the budget)
    onCountryAlert: (alert) => {
      logger.error({ alert: 'sms_pumping_suspected', ...alert }, `SMS pumping suspected in ${alert.country}: ${alert.blockedRanges} number ranges blocked at once`)
    },
    onError: (error) => logger.warn({ err: error }, 'the SMS guard could not count')
  })
  const challengeIssuer = new ChallengeIssuer({ otp, delivery, smsGuard, queue: deliveryQueue, cipher, metrics })

  const signingKeys = loadSigningKeys(config)
  const refreshTokenKey = loadRefreshTokenKey(config)
  const sessionService = createSessionService(config, {
    sessions: documents.sessions,
    users,
    revocations: keyed.revocations,
    signAccessToken: createAccessTokenSigner(config, signingKeys),
    refreshTokenKey,
    now,
    audit,
    metrics
  })

  // without OTP_PEPPER (refused in production) one random key per process
  const peppered = config.OTP_PEPPER ?? randomBytes(32).toString('base64url')
  // the account's owner hears that someone is guessing its authenticator codes, on its email (else its phone)
  const notifyTotpThrottled = async (userId: string) => {
    const user = await users.findById(userId)
    if (user?.status !== 'active') return
    const [channel, to] = user.email !== null ? ['email' as const, user.email] : ['sms' as const, user.phone]
    if (to === null) return
    await notifier.notify({ kind: 'login_throttled', channel, to, locale: user.locale, minutes: minutesOf(config.TOTP_THROTTLE_MAX_SECONDS) })
  }
  const totp = new TotpAuthenticator({
    credentials: totpCredentials,
    attempts: keyed.totpAttempts,
    // an ephemeral key without TOTP_ENCRYPTION_KEYS, which loadConfig refuses in production
    box: config.TOTP_ENCRYPTION_KEYS.length > 0
      ? new SecretBox(parseEncryptionKeys(config.TOTP_ENCRYPTION_KEYS))
      : SecretBox.ephemeral(),
    issuer: config.APP_NAME,
    throttle: throttleLimits({
      freeFailures: config.TOTP_THROTTLE_AFTER_FAILURES,
      maxDelayMs: config.TOTP_THROTTLE_MAX_SECONDS * 1000,
      suspendAfter: config.SUSPEND_AFTER_FAILURES
    }),
    now,
    subjectKey: peppered,
    markEnrolled: (userId, enrolled) => users.setMfaEnrolled(userId, enrolled),
    onThrottled: (userId) => {
      notifyTotpThrottled(userId).catch((error: unknown) => logger.warn({ err: error }, 'could not queue a throttle notice'))
    }
  })
  const mfa = new MfaChallenges({
    store: keyed.mfaChallenges, ttlSeconds: MFA_TOKEN_TTL_SECONDS, now: () => now().getTime()
  })

  const devices = new DeviceTokens({
    key: createHmac('sha256', peppered).update('otp-gate device tokens v1').digest('base64url'),
    ttlSeconds: config.DEVICE_TOKEN_TTL_SECONDS,
    now
  })
  const proofs = new ReauthProofs({ key: reauthProofKey(refreshTokenKey), ttlSeconds: REAUTH_WINDOW_SECONDS, now })
  const accountProof = new AccountProof({ proofs, totp, recentSignInSeconds: REAUTH_WINDOW_SECONDS, now })
  const erasure = new AccountErasure({
    users,
    sessions: documents.sessions,
    sessionService,
    totp,
    passkeys,
    audit,
    notifier,
    outbox: keyed.outbox,
    accountProof
  })
  const flows = { otp, issuer: challengeIssuer, users, sessions: sessionService, now }
  // passkeys: off (null) until WEBAUTHN_RP_ID is set; the credentials stay readable for erasure, export and admins
  const webAuthn = webAuthnSettings(config)
  const challengeKey = createHmac('sha256', peppered).update('otp-gate passkey challenges v1').digest('base64url')
  const ceremonies = webAuthn && new WebAuthnCeremonies(webAuthn, keyed.passkeyChallenges, challengeKey)
  const passkeyAuthenticator = ceremonies && new PasskeyAuthenticator({
    ceremonies,
    passkeys,
    attempts: keyed.totpAttempts,
    // the rule of wrong codes (OTP_THROTTLE_*, SUSPEND_AFTER_FAILURES), per credential id and per client IP
    throttle: throttleLimits({
      freeFailures: config.OTP_THROTTLE_AFTER_FAILURES,
      maxDelayMs: config.OTP_THROTTLE_MAX_SECONDS * 1000,
      suspendAfter: config.SUSPEND_AFTER_FAILURES
    }),
    subjectKey: peppered,
    now,
    audit
  })
  const undoLinks = new IdentifierUndoLinks({
    store: keyed.identifierUndos,
    users,
    sessions: sessionService,
    baseUrl: config.IDENTIFIER_UNDO_URL,
    key: identifierUndoKey(refreshTokenKey),
    now
  })
  return {
    stores: { ...keyed, ...documents },
    otp,
    delivery,
    deliveryQueue,
    auditWebhookQueue,
    notifier,
    smsGuard,
    challengeIssuer,
    signingKeys,
    sessionService,
    loginService: new LoginService({
      ...flows,
      totp,
      mfa,
      devices,
      signup: config.SIGNUP,
      mfaPolicy: config.MFA,
      audit,
      ...(webAuthn && { hasPasskey: async (userId: string) => (await passkeys.listByUser(userId)).length > 0 })
    }),
    passkeyRegistration: ceremonies && new PasskeyRegistration({
      ceremonies, passkeys, accountProof, notifier, now, audit
    }),
    passkeyLogin: ceremonies && passkeyAuthenticator && new PasskeyLogin({
      ceremonies, authenticator: passkeyAuthenticator, passkeys, users, sessions: sessionService, mfa, now, audit
    }),
    accounts: new AccountService({ users, sessions: sessionService }),
    contacts: new ContactService({ ...flows, notifier, proofs, accountProof, undoLinks }),
    undoLinks,
    authenticatorEnrolment: new AuthenticatorEnrolment({ totp, accountProof, notifier }),
    erasure,
    accountExport: new AccountExport({ sessions: documents.sessions, totp, passkeys, audit, now }),
    adminUsers: new AdminUsers({
      users, sessions: documents.sessions, sessionService, otp, totp, audit, erasure, notifier, now
    }),
    adminPasskeys: new AdminPasskeys({ users, passkeys, audit }),
    totp,
    mfa,
    devices,
    audit,
    now,
    /** writes the last security events, lets the jobs in flight finish (the rest stay queued), stops the timers */
    close: async () => {
      circuits?.stop()
      // before the queues close, so the last events' webhook batches are still queued
      await audit.close()
      await webhookBatcher?.close()
      await Promise.all([deliveryQueue.close(), auditWebhookQueue.close()])
      await Promise.all([
        keyed.otp.close?.(), keyed.totpAttempts.close(), keyed.mfaChallenges.close(), keyed.passkeyChallenges.close()
      ])
      await replicaAck.close()
    }
  }
}

/** The SMS-pumping guard as configured: region allow-list, hourly budget per region and per client, conversion. */
function smsGuardOf (
  config: Config, keyed: KeyedStores, hooks: Pick<SmsGuardOptions, 'onBlock' | 'onCountryAlert' | 'onError' | 'now' | 'metrics'>
): SmsGuard {
  return new SmsGuard({
    allowedCountries: config.SMS_ALLOWED_COUNTRIES,
    hourlyBudget: config.SMS_COUNTRY_HOURLY_BUDGET,
    budget: keyed.smsBudget,
    clientShare: config.SMS_COUNTRY_IP_SHARE,
    // without OTP_PEPPER (never in production) each process keys clients its own way
    clientKey: hmacClientKey(config.OTP_PEPPER ?? randomBytes(32).toString('base64url')),
    conversion: {
      store: keyed.smsFraud,
      policy: {
        windowMs: config.SMS_FRAUD_WINDOW_SECONDS * 1000,
        minSends: config.SMS_FRAUD_MIN_SENDS,
        minConversion: config.SMS_FRAUD_MIN_CONVERSION,
        blockMs: config.SMS_FRAUD_BLOCK_SECONDS * 1000,
        countryAlertRanges: config.SMS_FRAUD_COUNTRY_ALERT_PREFIXES,
        historyMs: config.SMS_FRAUD_HISTORY_DAYS * DAY_MS,
        historyMinVerified: config.SMS_FRAUD_HISTORY_MIN_VERIFIED
      },
      allowPrefixes: config.SMS_FRAUD_ALLOW_PREFIXES
    },
    ...hooks
  })
}
