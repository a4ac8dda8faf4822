// Process entry of `npm run worker`: sends queued codes, nothing else. Same configuration as the API.
import closeWithGrace from 'close-with-grace'
import { readProcessConfig, type Config } from './config.ts'
import { loggerOptions } from './logger.ts'
import { createRedisClient } from '../plugins/redis.ts'
import { buildWorkerHealthServer } from '../plugins/worker-health.ts'
import { createDelivery } from './delivery/delivery.ts'
import { createDeliveryQueue } from './delivery/create-delivery-queue.ts'
import { createJobConsumer } from './delivery/job-consumer.ts'
import { createJobHandlers } from './delivery/job-handlers.ts'
import { createAuditWebhookHandler } from './audit/audit-webhook-handler.ts'
import { createJobCipher, hasSharedJobKey } from './delivery/job-cipher.ts'
import { CircuitBoard } from './delivery/circuit-board.ts'
import { createOtpEngine } from './otp/otp-engine.ts'
import { PrometheusMetrics } from './metrics/prometheus-metrics.ts'
import { NO_METRICS } from './metrics/metrics.ts'
import { buildMetricsServer } from '../plugins/metrics-server.ts'
import { startTracing } from './telemetry/tracing.ts'
import { createKeyedStores } from './stores.ts'

function refuse (message: string): never {
  process.stderr.write(`otp-gate worker: ${message}\n`)
  process.exit(1)
}

async function run (config: Config): Promise<void> {
  const redis = createRedisClient(config)
  if (redis === null) refuse('the queue lives in Redis: set REDIS_URL or REDIS_CLUSTER_NODES')
  // the API seals each job; with a random key of its own this process could open none of them
  if (!hasSharedJobKey(config)) refuse('set OTP_PEPPER or DELIVERY_JOB_KEY, the same as the API\'s, to open its jobs')

  const tracing = startTracing(config)
  // its own /metrics on METRICS_PORT (deliveries, store errors, Node's): the API's port differs from this one
  const prometheus = config.METRICS_PORT === undefined
    ? null
    : new PrometheusMetrics({ conversionWindowSeconds: config.SMS_FRAUD_WINDOW_SECONDS, withApiMetrics: false })
  const metrics = prometheus ?? NO_METRICS
  const metricsServer = prometheus && buildMetricsServer(prometheus)
  const health = buildWorkerHealthServer(redis, {
    logger: loggerOptions(config), pingTimeoutMs: config.STORE_TIMEOUT_MS
  })
  redis.on('error', (error: Error) => health.log.warn({ err: error.message }, 'redis connection error'))
  await redis.connect()

  // the API's Redis stores, under the same names
  const { outbox, otp: otpStore } = createKeyedStores(redis, { now: () => new Date(), keyPrefix: '', outboxKeySecret: config.OTP_PEPPER })
  // its breaker opens for every process: the API refuses the channel while this worker's provider fails
  const circuits = new CircuitBoard(redis, { onError: (error) => health.log.warn({ err: error }, 'could not read the delivery circuits') })
  const delivery = createDelivery(config, {
    outbox,
    logger: health.log.child({ component: 'delivery' }),
    metrics,
    onCircuitOpen: (channel, until) => {
      circuits.publish(channel, until).catch((error: unknown) => health.log.warn({ err: error }, 'could not share an open delivery circuit'))
    }
  })
  circuits.watch((channel, until) => delivery.openCircuit(channel, until))
  const queue = createDeliveryQueue(config, { redis, logger: health.log.child({ component: 'delivery-queue' }) })
  // the API's OTP store, read only: a code that was replaced, used or is a decoy's is dropped, not sent
  const otp = createOtpEngine(config, otpStore)
  const cipher = createJobCipher(config)
  const logger = health.log.child({ component: 'delivery' })
  const auditWebhook = createAuditWebhookHandler(config)
  queue.start(createJobConsumer(createJobHandlers({ cipher, delivery, otp, logger, metrics, auditWebhook })))

  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) health.log.error({ err }, 'shutting down after an error')
    else health.log.info({ signal }, 'shutting down: finishing the jobs in flight')
    circuits.stop()
    await queue.close()
    await health.close()
    await metricsServer?.close()
    await redis.quit().catch(() => redis.disconnect())
    await tracing?.shutdown()
  })
  await health.listen({ host: config.HOST, port: config.WORKER_PORT })
  if (metricsServer) {
    await metricsServer.listen({ host: config.HOST, port: config.METRICS_PORT })
    health.log.info({ port: config.METRICS_PORT }, 'metrics served at /metrics')
  }
}

run(readProcessConfig('otp-gate worker')).catch((error: unknown) => {
  process.stderr.write(`otp-gate worker: could not start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
