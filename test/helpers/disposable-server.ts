import { spawn, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../scripts/free-port.ts'

export { freePort }

async function waitForPort (port: number, open: boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
    if (isOpen === open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`port ${port} did not ${open ? 'open' : 'close'} within ${timeoutMs} ms`)
}

/**
 * A server process of one test's own on a fixed free port, that the test stops and starts again to see
 * the API fail closed and recover. Stopped by pid (SIGKILL: an outage, not a shutdown).
 */
export class DisposableServer {
  readonly port: number
  readonly #command: (port: number) => [string, string[]]
  /** the server's own directory, kept across a stop and start, removed by dispose */
  readonly #dir: string
  #process: ChildProcess | null = null

  constructor (port: number, dir: string, command: (port: number) => [string, string[]]) {
    this.port = port
    this.#dir = dir
    this.#command = command
  }

  async start (): Promise<void> {
    const [file, args] = this.#command(this.port)
    const child = spawn(file, args, { stdio: 'ignore' })
    const failed = once(child, 'error').then(([error]) => { throw new Error(`${file} could not start: ${(error as Error).message}`) })
    this.#process = child
    await Promise.race([waitForPort(this.port, true), failed])
  }

  /** Freezes the process (SIGSTOP): its port stays open and accepts connections, but nothing answers. */
  pause (): void {
    this.#signal('SIGSTOP')
  }

  /** Thaws a paused process (SIGCONT). */
  resume (): void {
    this.#signal('SIGCONT')
  }

  #signal (signal: NodeJS.Signals): void {
    const child = this.#process
    if (child === null || child.exitCode !== null) throw new Error(`the server on port ${this.port} is not running`)
    child.kill(signal)
  }

  async stop (): Promise<void> {
    const child = this.#process
    if (child === null || child.exitCode !== null) return
    this.#process = null
    const exited = once(child, 'exit')
    // a paused process dies of SIGKILL all the same
    child.kill('SIGKILL')
    await exited
    await waitForPort(this.port, false)
  }

  /** Stops the server for good and removes its directory: a test's teardown. */
  async dispose (): Promise<void> {
    await this.stop()
    rmSync(this.#dir, { recursive: true, force: true })
  }
}

/** A redis-server of the test's own. */
export async function startDisposableRedis (): Promise<DisposableServer & { url: string }> {
  const port = await freePort()
  // a directory of its own: a replica writes the copy a primary sends it to dump.rdb there, not in the project
  const dir = mkdtempSync(join(tmpdir(), 'otp-gate-redis-'))
  const args = (p: number) => ['--bind', '127.0.0.1', '--port', String(p), '--dir', dir, '--save', '', '--appendonly', 'no']
  const server = Object.assign(new DisposableServer(port, dir, (p) => ['redis-server', args(p)]), { url: `redis://127.0.0.1:${port}` })
  await server.start()
  return server
}

/** A FerretDB (MongoDB wire protocol, SQLite) of the test's own; its data survives a stop and start. */
export async function startDisposableMongo (): Promise<DisposableServer & { url: string }> {
  const binary = process.env.FERRETDB_BIN
  if (!binary) throw new Error('FERRETDB_BIN is not set: run the tests with `npm test` (scripts/test-services.sh finds or builds FerretDB)')
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'otp-gate-ferret-'))
  const server = Object.assign(new DisposableServer(port, dir, (p) => [binary, [
    '--handler=sqlite', `--sqlite-url=file:${dir}/`, `--state-dir=${dir}`, `--listen-addr=127.0.0.1:${p}`,
    '--debug-addr=-', '--telemetry=disable', '--log-level=error'
  ]]), { url: `mongodb://127.0.0.1:${port}/otp-gate-outage` })
  await server.start()
  return server
}
