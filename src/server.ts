import cluster from 'node:cluster'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { buildApp } from './app.ts'
import { listenWithGrace } from './listen.ts'

function readConfig (): Config {
  try {
    // an optional .env beside the process; real environment variables win
    try { process.loadEnvFile() } catch (error) { if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error }
    return loadConfig(process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`otp-gate: ${error.message}\n`)
    process.exit(1)
  }
}

async function serve (config: Config): Promise<void> {
  await listenWithGrace(await buildApp(config), config)
}

const config = readConfig()
if (config.WORKERS > 1 && cluster.isPrimary) {
  // the primary only forks; each worker is a full server sharing the port
  for (let worker = 0; worker < config.WORKERS; worker++) cluster.fork()
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
