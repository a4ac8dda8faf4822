// The MongoDB-wire server the test services started (FerretDB; its pid in $TEST_SERVICES_DIR/ferretdb.pid), as a
// fault sees it: stopped and resumed, or killed and started again with the same command line (same port, same
// PostgreSQL or SQLite data), its new pid written back so that `test-services.sh stop` ends it.
import { spawn } from 'node:child_process'
import { openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect } from 'node:net'

export class MongoWireServer {
  readonly #pidFile: string
  readonly #logFile: string

  constructor (servicesDir: string) {
    this.#pidFile = join(servicesDir, 'ferretdb.pid')
    this.#logFile = join(servicesDir, 'ferretdb.log')
  }

  get pid (): number {
    return Number(readFileSync(this.#pidFile, 'utf8').trim())
  }

  signal (signal: NodeJS.Signals): void {
    process.kill(this.pid, signal)
  }

  /** SIGKILL, then the same binary and arguments again; resolves once its port takes connections. */
  async killAndRestart (port: number): Promise<number> {
    const pid = this.pid
    const [command, ...args] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
    process.kill(pid, 'SIGKILL')
    while (isAlive(pid)) await sleep(10)
    const log = openSync(this.#logFile, 'a')
    const child = spawn(command!, args, { detached: true, stdio: ['ignore', log, log] })
    child.unref()
    writeFileSync(this.#pidFile, `${child.pid}\n`)
    const began = Date.now()
    while (!await accepts(port)) {
      if (Date.now() - began > 30_000) throw new Error('the MongoDB-wire server did not come back within 30 s')
      await sleep(50)
    }
    return Date.now() - began
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')
  } catch {
    return false
  }
}

const accepts = (port: number) => new Promise<boolean>((resolve) => {
  const socket = connect(port, '127.0.0.1')
  socket.once('connect', () => { socket.destroy(); resolve(true) })
  socket.once('error', () => resolve(false))
})
