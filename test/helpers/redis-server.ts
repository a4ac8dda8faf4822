import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, connect } from 'node:net'
import { once } from 'node:events'

export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

async function waitForPort (port: number, open: boolean, timeoutMs = 5000): Promise<void> {
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
 * A redis-server of one test's own, on a fixed free port, that the test can stop and start again
 * (to see the API fail closed and recover). Stopped by pid.
 */
export class DisposableRedis {
  readonly port: number
  #process: ChildProcess | null = null

  private constructor (port: number) { this.port = port }

  static async start (): Promise<DisposableRedis> {
    const redis = new DisposableRedis(await freePort())
    await redis.start()
    return redis
  }

  get url (): string { return `redis://127.0.0.1:${this.port}` }

  async start (): Promise<void> {
    const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    child.once('error', (error) => { throw new Error(`redis-server could not start: ${error.message}`) })
    this.#process = child
    await waitForPort(this.port, true)
  }

  async stop (): Promise<void> {
    const child = this.#process
    if (child === null || child.exitCode !== null) return
    this.#process = null
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
    await waitForPort(this.port, false)
  }
}
