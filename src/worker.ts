// Process entry of `npm run worker`: sends queued codes and notices, and POSTs webhook batches from their own queue.
// Same configuration as the API.
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { readProcessConfig, type Config } from './config.ts'
import { loggerOptions } from '../plugins/logger.ts'
import { closeRedis, createRedisClient } from '../plugins/redis.ts'
import { buildWorkerHealthServer } from '../plugins/worker-health.ts'
import { hasSharedJobKey } from './delivery/job-cipher.ts'
import { PrometheusMetrics } from './metrics/prometheus-metrics.ts'
import { NO_METRICS } from './metrics/metrics.ts'
import { serveMetrics } from '../plugins/metrics-server.ts'
import { startTracing } from './telemetry/tracing.ts'
import { RepeatedErrorLog } from './telemetry/repeated-error-log.ts'
import { buildDomain } from './domain.ts'

function refuse (message: string): never {
  process.stderr.write(`otp-gate worker: ${message}\n`)
  process.exit(1)
}

async function run (config: Config): Promise<void> {
  const redis = createRedisClient(config)
  if (redis === null) refuse('the queue lives in Redis: set REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES')
  // the API seals each job; with a random key of its own this process could open none of them
  if (!hasSharedJobKey(config)) refuse('set OTP_PEPPER or DELIVERY_JOB_KEY, the same as the API\'s, to open its jobs')

  const tracing = startTracing(config)
  // its own /metrics on METRICS_PORT (deliveries, store errors, Node's): the API's port differs from this one
  const prometheus = config.METRICS_PORT === undefined
    ? null
    : new PrometheusMetrics({ conversionWindowSeconds: config.SMS_FRAUD_WINDOW_SECONDS, withApiMetrics: false })
  const metrics = prometheus ?? NO_METRICS
  let metricsServer: FastifyInstance | undefined
  const health = buildWorkerHealthServer(redis, {
    logger: loggerOptions(config), pingTimeoutMs: config.STORE_TIMEOUT_MS
  })
  const redisErrors = new RepeatedErrorLog(health.log)
  redis.on('error', (error: Error) => { redisErrors.warn(error, 'redis connection error', { err: error.message }) })
  await redis.connect()

  // the API's domain on the API's Redis (same key names, circuits, queue), sending what the queue holds; it reads
  // no MongoDB document, so none is connected. A code that was replaced, used or is a decoy's is dropped, not sent
  const domain = await buildDomain(config, { redis, mongo: null, logger: health.log, metrics, sendsJobs: true })

  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) health.log.error({ err }, 'shutting down after an error')
    else health.log.info({ signal }, 'shutting down: finishing the jobs in flight')
    await domain.close()
    await health.close()
    await metricsServer?.close()
    await closeRedis(redis)
    await tracing?.shutdown()
  })
  await health.listen({ host: config.HOST, port: config.WORKER_PORT })
  if (prometheus) {
    metricsServer = await serveMetrics(prometheus, config)
    health.log.info({ host: config.METRICS_HOST, port: config.METRICS_PORT, bearerToken: config.METRICS_TOKEN !== undefined }, 'metrics served at /metrics')
  }
}

run(readProcessConfig('otp-gate worker')).catch((error: unknown) => {
  process.stderr.write(`otp-gate worker: could not start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
