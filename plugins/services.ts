import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { sendsInProcess, type Config } from '../src/config.ts'
import { createOtpEngine, type OtpEngine } from '../src/otp/otp-engine.ts'
import { createDelivery, type Delivery } from '../src/delivery/delivery.ts'
import type { Outbox } from '../src/delivery/outbox.ts'
import { randomBytes } from 'node:crypto'
import { hmacClientKey, SmsGuard, type SmsBlock } from '../src/delivery/sms-guard.ts'
import type { UserRepository } from '../src/users/user-repository.ts'
import type { SessionRepository } from '../src/sessions/session-repository.ts'
import type { RevocationStore } from '../src/sessions/revocation-store.ts'
import { createDocumentStores, createKeyedStores, type KeyedStores, type DocumentStores } from '../src/stores.ts'
import { loadSigningKeys, type SigningKeys } from '../src/sessions/tokens.ts'
import { ChallengeIssuer } from '../src/auth/challenge-issuer.ts'
import type { DeliveryQueue } from '../src/delivery/delivery-queue.ts'
import { createDeliveryQueue } from '../src/delivery/create-delivery-queue.ts'
import { createJobConsumer } from '../src/delivery/job-consumer.ts'
import { createJobHandlers } from '../src/delivery/job-handlers.ts'
import { createAuditWebhookHandler } from '../src/audit/audit-webhook-handler.ts'
import { QueuedNotifier, type Notifier } from '../src/delivery/notices.ts'
import { minutesOf } from '../src/delivery/templates/render.ts'
import { createJobCipher } from '../src/delivery/job-cipher.ts'
import { CircuitBoard } from '../src/delivery/circuit-board.ts'

declare module 'fastify' {
  interface FastifyInstance {
    otp: OtpEngine
    delivery: Delivery
    outbox: Outbox
    /**
     * codes waiting to be sent: start and resend enqueue, a worker (this process when sendsInProcess) sends
     */
    deliveryQueue: DeliveryQueue
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
    /** the clock the HTTP layer uses; tests inject one */
    now: () => Date
  }
}

/** What tests may replace: the clock, and the Redis key prefix that keeps parallel test files apart. */
export interface ServiceOverrides {
  now?: () => Date
  redisKeyPrefix?: string
  /** told of every SMS the guard refuses, after its audit event: the hook of sms_guard_blocks_total{reason} */
  onSmsBlock?: (block: SmsBlock) => void
}

/** Builds the domain from config: Redis/MongoDB adapters when configured, in-process ones otherwise. */
async function servicesPlugin (
  app: FastifyInstance, { config, overrides }: { config: Config, overrides: ServiceOverrides }
) {
  const { redis, mongo, metrics } = app
  const now = overrides.now ?? (() => new Date())
  const keyPrefix = overrides.redisKeyPrefix ?? ''

  const keyed = createKeyedStores(redis, { now, keyPrefix, outboxKeySecret: config.OTP_PEPPER })
  // each MongoDB call bounded by STORE_TIMEOUT_MS, as Redis commands are, so a stalled server answers 503 in time
  const documents = createDocumentStores(mongo, { now, deadlineMs: config.STORE_TIMEOUT_MS })
  const { otp: otpStore, outbox, smsBudget, smsFraud, revocations } = keyed
  const { users, sessions } = documents
  await Promise.all([users.init(), sessions.init(), documents.totpCredentials.init()])

  // a circuit opened by whichever process sends (this one, or `npm run worker`) closes the channel everywhere
  const circuits = redis && new CircuitBoard(redis, {
    keyPrefix,
    now: () => now().getTime(),
    onError: (error) => app.log.warn({ err: error }, 'could not read the delivery circuits')
  })
  const delivery = createDelivery(config, {
    outbox,
    now,
    logger: app.log.child({ component: 'delivery' }),
    metrics,
    onCircuitOpen: (channel, until) => {
      circuits?.publish(channel, until).catch((error: unknown) => app.log.warn({ err: error }, 'could not share an open delivery circuit'))
    }
  })
  circuits?.watch((channel, until) => delivery.openCircuit(channel, until))

  // expiry is the OTP store's clock: Redis's own, or the injected one of the in-process store
  const storeClock = redis ? Date.now : () => now().getTime()
  const cipher = createJobCipher(config)
  const deliveryQueue = createDeliveryQueue(config, { redis, keyPrefix, logger: app.log.child({ component: 'delivery-queue' }), now: storeClock })
  const notifier = new QueuedNotifier({
    queue: deliveryQueue, cipher, offChannels: delivery.offChannels, now: storeClock
  })
  const throttleMinutes = minutesOf(config.OTP_THROTTLE_MAX_SECONDS)
  const otp = createOtpEngine(config, otpStore, metrics, {
    // the destination's owner hears that someone is guessing (the engine asks at most once an hour, never for a decoy)
    onThrottled: ({ channel, destination, locale }) => {
      notifier.notify({ kind: 'login_throttled', channel, to: destination, locale, minutes: throttleMinutes })
        .catch((error: unknown) => app.log.warn({ err: error }, 'could not queue a throttle notice'))
    }
  })
  if (sendsInProcess(config)) {
    const logger = app.log.child({ component: 'delivery' })
    const auditWebhook = createAuditWebhookHandler(config)
    const handlers = createJobHandlers({ cipher, delivery, otp, logger, metrics, now: storeClock, auditWebhook })
    deliveryQueue.start(createJobConsumer(handlers))
  }
  const smsGuard = new SmsGuard({
    allowedCountries: config.SMS_ALLOWED_COUNTRIES,
    hourlyBudget: config.SMS_COUNTRY_HOURLY_BUDGET,
    budget: smsBudget,
    clientShare: config.SMS_COUNTRY_IP_SHARE,
    // without OTP_PEPPER (never in production) each process keys clients its own way
    clientKey: hmacClientKey(config.OTP_PEPPER ?? randomBytes(32).toString('base64url')),
    conversion: {
      store: smsFraud,
      policy: {
        windowMs: config.SMS_FRAUD_WINDOW_SECONDS * 1000,
        minSends: config.SMS_FRAUD_MIN_SENDS,
        minConversion: config.SMS_FRAUD_MIN_CONVERSION,
        blockMs: config.SMS_FRAUD_BLOCK_SECONDS * 1000,
        countryBlockedRanges: config.SMS_FRAUD_COUNTRY_BLOCKED_PREFIXES
      },
      allowPrefixes: config.SMS_FRAUD_ALLOW_PREFIXES
    },
    onBlock: (block) => {
      app.audit.record('sms_guard_block', { identifier: block.destination, reason: block.reason })
      overrides.onSmsBlock?.(block)
    },
    onError: (error) => app.log.warn({ err: error }, 'the SMS guard could not count'),
    now,
    metrics
  })
  app.decorate('otp', otp)
  app.decorate('delivery', delivery)
  app.decorate('outbox', outbox)
  app.decorate('smsGuard', smsGuard)
  app.decorate('deliveryQueue', deliveryQueue)
  app.decorate('challengeIssuer', new ChallengeIssuer({ otp, delivery, smsGuard, queue: deliveryQueue, cipher, metrics }))
  app.decorate('notifier', notifier)
  app.decorate('outboxEnabled', delivery.usesOutbox.email || delivery.usesOutbox.sms)
  app.decorate('users', users)
  app.decorate('sessions', sessions)
  app.decorate('revocations', revocations)
  app.decorate('signingKeys', loadSigningKeys(config))
  app.decorate('now', now)
  app.decorate('stores', { ...keyed, ...documents })
  // before Redis closes (plugins close in reverse order): jobs in flight finish, the rest stay queued
  app.addHook('onClose', async () => {
    circuits?.stop()
    await deliveryQueue.close()
    await otpStore.close?.()
  })
}

export default fp(servicesPlugin, { name: 'services', fastify: '5.x', dependencies: ['redis', 'mongo', 'audit', 'metrics'] })
