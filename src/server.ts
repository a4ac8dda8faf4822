import cluster from 'node:cluster'
import { readProcessConfig, type Config } from './config.ts'
import { buildApp } from './app.ts'
import { listenWithGrace } from '../plugins/listen.ts'
import { ClusterMetrics } from './metrics/cluster-metrics.ts'
import { serveMetrics } from '../plugins/metrics-server.ts'

async function serve (config: Config): Promise<void> {
  await listenWithGrace(await buildApp(config), config)
}

const config = readProcessConfig('otp-gate')
if (config.WORKERS > 1 && cluster.isPrimary) {
  // the primary only forks; each worker is a full server sharing the port
  for (let worker = 0; worker < config.WORKERS; worker++) cluster.fork()
  // one scrape for the instance: the primary sums its workers' metrics
  if (config.METRICS_PORT !== undefined) {
    serveMetrics(new ClusterMetrics(), config)
      .catch((error: unknown) => {
        process.stderr.write(`otp-gate: could not serve metrics: ${error instanceof Error ? error.message : String(error)}\n`)
        process.exit(1)
      })
  }
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    stopping = true
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal)
  }
  process.once('SIGTERM', stop).once('SIGINT', stop)
  cluster.on('exit', (worker, code) => {
    if (!stopping) {
      process.stderr.write(`otp-gate: worker ${worker.process.pid} exited with ${code}, starting another\n`)
      cluster.fork()
    } else if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0)
  })
} else {
  serve(config).catch((error: unknown) => {
    process.stderr.write(`otp-gate: could not start: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
