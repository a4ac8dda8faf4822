import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A server the bench started: a process group of its own, so cluster workers go down with it. */
export interface Service {
  name: string
  url: string
  pid: number
  /** log lines at pino level warn or above, seen so far */
  warnings: () => number
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

/** A port free right now on 127.0.0.1; the child binds it a moment later. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/**
 * Starts `node <args>` with exactly `env` (nothing inherited, so the shell cannot change what is measured) and
 * resolves once GET `readyPath` answers 200.
 */
export async function startService (name: string, args: string[], env: Record<string, string>, options: { cwd: string, port: number, readyPath: string }): Promise<Service> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  if (child.pid === undefined) throw new Error(`${name}: could not spawn node`)
  const pid = child.pid
  running.set(pid, child)
  const lines: string[] = []
  let warnings = 0
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      lines.push(line)
      if (lines.length > TAIL_LINES) lines.shift()
      const level = /^\{"level":(\d+)/.exec(line)?.[1]
      if (level === undefined || Number(level) >= PINO_WARN) warnings++
    }
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const service: Service = {
    name,
    url: `http://127.0.0.1:${options.port}`,
    pid,
    warnings: () => warnings,
    tail: () => lines.join('\n'),
    stop: () => stopGroup(pid)
  }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break
    const ready = await fetch(service.url + options.readyPath).then((response) => response.ok, () => false)
    if (ready) return service
    await sleep(100)
  }
  await service.stop()
  throw new Error(`${name} did not become ready (exit code ${child.exitCode}):\n${service.tail()}`)
}
