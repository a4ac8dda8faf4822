import { Cluster, type Redis } from 'ioredis'
import { refreshSlotsOnNodeFailure } from './cluster-slots.ts'

/**
 * Connections of their own for replica acknowledgements, made as copies of the app's client (a Sentinel's
 * master, a Cluster's slots), opened on first need and each lent to one acknowledgement at a time: a WAIT that
 * waits blocks only its own. When all are lent, a caller waits for one within its deadline, then gives up.
 */
export class AckConnections {
  readonly #source: Redis | Cluster
  readonly #max: number
  readonly #idle: Array<Redis | Cluster> = []
  readonly #all = new Set<Redis | Cluster>()
  readonly #waiters: Array<(connection: Redis | Cluster) => void> = []
  #closed = false

  constructor (source: Redis | Cluster, max: number) {
    this.#source = source
    this.#max = max
  }

  async use<T> (
    deadlineMs: number, fail: (why: string) => Error, work: (connection: Redis | Cluster) => Promise<T>
  ): Promise<T> {
    const connection = await this.#take(deadlineMs, fail)
    let result: T
    try {
      result = await work(connection)
    } catch (error) {
      // a connection that failed (a failover, a node gone) is not lent again: the next one is a fresh copy,
      // which finds the master or the slots as they are now
      this.#discard(connection)
      throw error
    }
    this.#give(connection)
    return result
  }

  async close (): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#all].map((connection) => connection.quit().catch(() => connection.disconnect())))
    this.#all.clear()
    this.#idle.length = 0
  }

  async #take (deadlineMs: number, fail: (why: string) => Error): Promise<Redis | Cluster> {
    if (this.#closed) throw fail('closing: no acknowledgement is asked for any more')
    const idle = this.#idle.pop()
    if (idle) return idle
    if (this.#all.size < this.#max) return this.#open(deadlineMs, fail)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(handOver), 1)
        reject(fail(`all ${this.#max} acknowledgement connections were busy for ${deadlineMs} ms`))
      }, deadlineMs)
      const handOver = (connection: Redis | Cluster) => { clearTimeout(timer); resolve(connection) }
      this.#waiters.push(handOver)
    })
  }

  async #open (deadlineMs: number, fail: (why: string) => Error): Promise<Redis | Cluster> {
    // the copy keeps the source's options (no offline queue, the store deadline as command timeout), and connects
    // before it is lent: a command's primary is told by the connection's server. A copy on a demoted Sentinel
    // master fails its next acknowledgement and is replaced
    const source = this.#source
    const connection: Redis | Cluster = source instanceof Cluster
      ? source.duplicate(undefined, { lazyConnect: true })
      : source.duplicate({ lazyConnect: true })
    connection.on('error', () => {}) // each command reports its own failure; the source's listener logs
    if (connection instanceof Cluster) refreshSlotsOnNodeFailure(connection)
    this.#all.add(connection)
    // within the caller's deadline: a Cluster copy keeps retrying while the cluster is down, its connect() pending
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`not connected within ${deadlineMs} ms`)), deadlineMs)
    })
    try {
      await Promise.race([connection.connect(), late])
      return connection
    } catch (error) {
      this.#all.delete(connection)
      connection.disconnect()
      throw fail(`no connection for the acknowledgement: ${(error as Error).message}`)
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * After a failover, so that no idle copy fails a caller first: a Cluster copy asks for the slot map again (it
   * learns of a moved slot only from an answer, and it is checked before it sends anything); another copy
   * `stale` picks (on a Sentinel's old master) is closed.
   */
  catchUp (stale: (connection: Redis | Cluster) => boolean): void {
    for (const connection of [...this.#idle]) {
      if (connection instanceof Cluster) {
        connection.refreshSlotsCache()
      } else if (stale(connection)) {
        this.#idle.splice(this.#idle.indexOf(connection), 1)
        this.#discard(connection)
      }
    }
  }

  #discard (connection: Redis | Cluster): void {
    this.#all.delete(connection)
    // callers already waiting keep waiting for a lent one (within their deadline); the next caller opens a copy
    connection.disconnect()
  }

  #give (connection: Redis | Cluster): void {
    if (this.#closed) return
    const waiter = this.#waiters.shift()
    if (waiter) waiter(connection)
    else this.#idle.push(connection)
  }
}
