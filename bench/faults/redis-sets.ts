// The Sentinel and Cluster sets of scripts/redis-sets.sh, started for one scenario in a directory of their own and
// stopped by pid afterwards (also if the harness dies).
import { execFile, execFileSync, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const SCRIPT = fileURLToPath(new URL('../../scripts/redis-sets.sh', import.meta.url))
const started = new Set<string>()

process.on('exit', () => {
  for (const dir of started) {
    try { execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore' }) } catch { /* best effort */ }
  }
})

export interface RedisSet {
  kind: 'sentinel' | 'cluster'
  dir: string
  /** DIR/env as written by the script */
  env: Record<string, string>
  /** pid of the redis-server on `port` */
  pidOf: (port: number) => number
  /**
   * SIGKILLs the redis-server on `port`; the function returned starts it again with the same command line (same
   * port, directory, nodes.conf), as a supervisor would, and resolves once it answers PING.
   */
  kill: (port: number) => Promise<() => Promise<number>>
  stop: () => Promise<void>
}

function readEnv (file: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (match) env[match[1]!] = match[2]!
  }
  return env
}

export async function startRedisSet (kind: 'sentinel' | 'cluster', dir: string): Promise<RedisSet> {
  await mkdir(dir, { recursive: true })
  started.add(dir)
  // FAULTS_REPLICAS per primary (default 2): with two, a promoted replica still has one to acknowledge writes at
  // REDIS_WAIT_REPLICAS=1; with one, nothing is acknowledged until the old primary rejoins (docs/failures.md)
  const count = process.env.FAULTS_REPLICAS ?? '2'
  const replicas = { SENTINEL_REPLICAS: count, CLUSTER_REPLICAS: count }
  await run('bash', [SCRIPT, kind, 'start', dir], { timeout: 120_000, env: { ...process.env, ...replicas } })
  return {
    kind,
    dir,
    env: readEnv(join(dir, 'env')),
    pidOf: (port) => Number(readFileSync(join(dir, `redis-${port}.pid`), 'utf8').trim()),
    kill: async (port) => {
      const pidFile = join(dir, `redis-${port}.pid`)
      const pid = Number(readFileSync(pidFile, 'utf8').trim())
      // redis-server rewrites its process title, so its arguments are read from it while it lives
      const args = await serverArgs(port)
      process.kill(pid, 'SIGKILL')
      return async () => {
        const began = Date.now()
        const child = spawn('redis-server', args, { detached: true, stdio: 'ignore' })
        child.on('error', () => {})
        child.unref()
        writeFileSync(pidFile, `${child.pid}\n`)
        while (!(await redisCli(port, 'PING').catch(() => '')).includes('PONG')) {
          if (Date.now() - began > 20_000) throw new Error(`redis-server :${port} did not come back within 20 s`)
          await sleep(50)
        }
        return Date.now() - began
      }
    },
    stop: async () => {
      await run('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 })
      started.delete(dir)
    }
  }
}

/** What scripts/redis-sets.sh started the server on `port` with (a replica is told its primary by Sentinel). */
async function serverArgs (port: number): Promise<string[]> {
  const config = async (name: string) => (await redisCli(port, 'CONFIG', 'GET', name)).trim().split('\n')[1] ?? ''
  const args = [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', await config('dir'), '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--logfile', await config('logfile'),
    '--repl-diskless-sync-delay', await config('repl-diskless-sync-delay')
  ]
  if (await config('cluster-enabled') !== 'yes') return args
  return [
    ...args, '--cluster-enabled', 'yes', '--cluster-config-file', await config('cluster-config-file'),
    '--cluster-port', await config('cluster-port'), '--cluster-node-timeout', await config('cluster-node-timeout')
  ]
}

export async function redisCli (port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 })
  return stdout
}

/** The port of a Cluster primary that owns slots, read from CLUSTER NODES of any node. */
export async function clusterPrimaryPort (anyNode: number): Promise<number> {
  const nodes = await redisCli(anyNode, 'CLUSTER', 'NODES')
  const primary = nodes.split('\n').find((line) => {
    const fields = line.split(' ')
    return fields[2]?.split(',').includes('master') && fields.length > 8
  })
  if (primary === undefined) throw new Error(`no primary with slots in CLUSTER NODES:\n${nodes}`)
  return Number(primary.split(' ')[1]!.split('@')[0]!.split(':').at(-1))
}

export const portsOf = (csv: string) => csv.split(',').map((node) => Number(node.trim().split(':').at(-1)))
