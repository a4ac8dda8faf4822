// The MongoDB-wire server the test services started (FerretDB; its pid in $TEST_SERVICES_DIR/ferretdb.pid), as a
// fault sees it: stopped and resumed, or killed and started again with the same command line (same port, same
// PostgreSQL or SQLite data), its new pid written back so that `test-services.sh stop` ends it.
import { spawn } from 'node:child_process'
import { openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { MongoClient } from 'mongodb'

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

  #spawn (command: string, args: string[]) {
    const log = openSync(this.#logFile, 'a')
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] })
    child.unref()
    writeFileSync(this.#pidFile, `${child.pid}\n`)
    return child
  }

  #logTail (): string {
    return readFileSync(this.#logFile, 'utf8').trim().split('\n').slice(-5).join(' | ')
  }

  /**
   * SIGKILL, then the same binary and arguments again; resolves once it answers a MongoDB `hello` (an open port is
   * not enough: a client reconnecting to the dead port can be handed that very port as its own, and then connects
   * to itself while the new server cannot bind: then it is started again).
   */
  async killAndRestart (port: number): Promise<{ ms: number, failedStarts: number }> {
    const pid = this.pid
    const [command, ...args] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
    process.kill(pid, 'SIGKILL')
    while (isAlive(pid)) await sleep(10)
    const began = Date.now()
    let exits = 0
    for (;;) {
      const child = this.#spawn(command!, args)
      while (child.exitCode === null && child.signalCode === null && !await answersHello(port)) {
        if (Date.now() - began > 30_000) throw new Error(`the MongoDB-wire server did not answer in 30 s: ${this.#logTail()}`)
        await sleep(50)
      }
      if (child.exitCode === null && child.signalCode === null) break
      // it could not start (its port held by a client connected to itself, which lets go in a moment): again
      if (++exits === 5) throw new Error(`the MongoDB-wire server exited ${exits} times on start: ${this.#logTail()}`)
      await sleep(200)
    }
    return { ms: Date.now() - began, failedStarts: exits }
  }
}

/** A MongoDB `hello` answered on 127.0.0.1:port, within a second. */
async function answersHello (port: number): Promise<boolean> {
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 })
  try {
    await client.db('admin').command({ hello: 1 })
    return true
  } catch {
    return false
  } finally {
    await client.close().catch(() => {})
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
