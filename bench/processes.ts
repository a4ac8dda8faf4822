import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFile, readdir } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

/** A server the bench started: a process group of its own, so cluster workers go down with it. */
export interface Service {
  name: string
  url: string
  /** readiness URL: answers once the server and its stores do */
  readyUrl: string
  pid: number
  /** log lines at pino level warn or above (or not pino's), seen so far, and what they said */
  warnings: () => number
  warningSummary: () => string
  /** CPU time (user + system) of the whole process group so far, in ms; null where /proc is missing */
  cpuMs: () => Promise<number | null>
  /** the last lines it printed, for error messages */
  tail: () => string
  stop: () => Promise<void>
}

const running = new Map<number, ChildProcess>()
const TAIL_LINES = 40
const PINO_WARN = 40

const signalGroup = (pid: number, signal: NodeJS.Signals) => {
  try { process.kill(-pid, signal) } catch { /* already gone */ }
}

// the last resort when the bench itself dies on an error: nothing it started outlives it
process.on('exit', () => { for (const pid of running.keys()) signalGroup(pid, 'SIGKILL') })

/** Stops every service still running; for signal handlers. */
export async function stopAll (): Promise<void> {
  await Promise.all([...running.keys()].map((pid) => stopGroup(pid)))
}

async function stopGroup (pid: number): Promise<void> {
  const child = running.get(pid)
  if (child === undefined) return
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit')
  signalGroup(pid, 'SIGTERM')
  const inTime = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])
  // the primary is gone, but a worker that ignored SIGTERM would still hold the port
  signalGroup(pid, 'SIGKILL')
  if (!inTime) await exited
  running.delete(pid)
}

/** `type: message` of a pino line at warn or above, the line itself when it is not pino's, null otherwise. */
function warningGist (line: string): string | null {
  if (!line.startsWith('{')) return line.slice(0, 200)
  try {
    const entry = JSON.parse(line) as { level?: number, msg?: string, err?: { type?: string, message?: string } }
    if ((entry.level ?? PINO_WARN) < PINO_WARN) return null
    return entry.err ? `${entry.err.type}: ${entry.err.message}` : String(entry.msg)
  } catch {
    return line.slice(0, 200)
  }
}

const CLOCK_TICKS_PER_SECOND = 100

/** utime + stime of every process whose process group is `pid` (the server and its cluster workers). */
async function groupCpuMs (pid: number): Promise<number | null> {
  let ticks = 0
  try {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
      // the command name, in parentheses, may hold spaces: count fields after its closing one
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[2]) === pid) ticks += Number(fields[11]) + Number(fields[12])
    }
  } catch {
    return null
  }
  return ticks * 1000 / CLOCK_TICKS_PER_SECOND
}

/** One line per service that logged warnings or errors, for the report. */
export const serviceWarnings = (services: Service[]): string[] => services
  .filter((service) => service.warnings() > 0)
  .map((service) => `${service.name} logged ${service.warnings()} warnings or errors: ${service.warningSummary()}`)

/** A server the bench did not start (BENCH_TARGET): nothing to stop, no CPU or logs to read. */
export function remoteService (url: string): Service {
  const base = url.replace(/\/+$/, '')
  return {
    name: base,
    url: base,
    readyUrl: `${base}/health/ready`,
    pid: 0,
    warnings: () => 0,
    warningSummary: () => '',
    tail: () => '',
    cpuMs: async () => null,
    stop: async () => {}
  }
}

/**
 * Starts `node <args>` with exactly `env` (nothing inherited, so the shell cannot change what is measured) and
 * resolves once GET `readyPath` answers 200.
 */
export async function startService (
  name: string, args: string[], env: Record<string, string>, options: { cwd: string, port: number, readyPath: string }
): Promise<Service> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  if (child.pid === undefined) throw new Error(`${name}: could not spawn node`)
  const pid = child.pid
  running.set(pid, child)
  const lines: string[] = []
  const warnings = new Map<string, number>()
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      lines.push(line)
      if (lines.length > TAIL_LINES) lines.shift()
      const gist = warningGist(line)
      if (gist !== null) warnings.set(gist, (warnings.get(gist) ?? 0) + 1)
    }
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const service: Service = {
    name,
    url: `http://127.0.0.1:${options.port}`,
    readyUrl: `http://127.0.0.1:${options.port}${options.readyPath}`,
    pid,
    warnings: () => [...warnings.values()].reduce((sum, count) => sum + count, 0),
    warningSummary: () => [...warnings].map(([gist, count]) => `${count} × ${gist}`).join('; '),
    tail: () => lines.join('\n'),
    cpuMs: () => groupCpuMs(pid),
    stop: () => stopGroup(pid)
  }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break
    const ready = await fetch(service.readyUrl).then((response) => response.ok, () => false)
    if (ready) return service
    await sleep(100)
  }
  await service.stop()
  throw new Error(`${name} did not become ready (exit code ${child.exitCode}):\n${service.tail()}`)
}

/**
 * Waits until the readiness check answers quickly three times in a row: requests cut off at the end of a run
 * may still be queued in the stores, and the next run should not pay for them.
 */
export async function settle (service: Service, quickMs = 50, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let quick = 0; quick < 3 && Date.now() < deadline; await sleep(50)) {
    const began = performance.now()
    const ok = await fetch(service.readyUrl).then((response) => response.ok, () => false)
    quick = ok && performance.now() - began < quickMs ? quick + 1 : 0
  }
}
