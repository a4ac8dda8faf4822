// What a high-traffic deployment runs, on loopback: two API instances (production mode, DELIVERY_WORKER=false)
// and two delivery workers, all on one Redis setting (a plain server, a Sentinel set or a Cluster) and the bench's
// MongoDB-wire server; the codes go to the fake SendGrid.
import { fileURLToPath } from 'node:url'
import { serverEnv, type ServerSettings } from '../servers.ts'
import { startService, type Service } from '../processes.ts'
import { freePort } from '../../test/helpers/disposable-server.ts'

/** How the processes reach Redis: REDIS_URL, or the Sentinel or Cluster variables, and REDIS_WAIT_* */
export type RedisEnv = Record<string, string>

const root = new URL('../../', import.meta.url)
const cwd = fileURLToPath(new URL('bench/', root))
const script = (path: string) => fileURLToPath(new URL(path, root))

export class Stack {
  readonly apis: Service[] = []
  readonly workers: Service[] = []
  readonly #settings: ServerSettings
  readonly #redis: RedisEnv

  constructor (settings: ServerSettings, redis: RedisEnv) {
    this.#settings = settings
    this.#redis = redis
  }

  #env (port: number): Record<string, string> {
    const env = { ...serverEnv(this.#settings, port, 1), ...this.#redis }
    if (this.#redis.REDIS_URL === undefined) delete env.REDIS_URL
    return env
  }

  async startApi (index: number): Promise<Service> {
    const port = await freePort()
    const api = await startService(`api ${index + 1}`, [script('src/server.ts')], this.#env(port), { cwd, port, readyPath: '/health/ready' })
    this.apis[index] = api
    return api
  }

  async startWorker (index: number): Promise<Service> {
    const port = await freePort()
    const env = { ...this.#env(0), WORKER_PORT: String(port) }
    const worker = await startService(`worker ${index + 1}`, [script('src/worker.ts')], env, { cwd, port, readyPath: '/health/ready' })
    this.workers[index] = worker
    return worker
  }

  async start (): Promise<void> {
    await Promise.all([this.startApi(0), this.startApi(1), this.startWorker(0), this.startWorker(1)])
  }

  get urls (): string[] {
    return this.apis.map((api) => api.url)
  }

  /** SIGKILL to the whole process group: no shutdown hook runs, the sockets are cut. */
  kill (service: Service): void {
    try { process.kill(-service.pid, 'SIGKILL') } catch { /* already gone */ }
  }

  /** Log lines at warn or above, per process, for the report. */
  warnings (): string[] {
    return [...this.apis, ...this.workers]
      .filter((service) => service.warnings() > 0)
      .map((service) => `${service.name}: ${service.warningSummary()}`)
  }

  async stop (): Promise<void> {
    await Promise.all([...this.apis, ...this.workers].map((service) => service.stop()))
  }
}
