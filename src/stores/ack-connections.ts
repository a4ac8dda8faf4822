import { Cluster, type Redis } from 'ioredis'
import { connectEveryNode, refreshSlotsOnNodeFailure } from './cluster-slots.ts'

/** How long a copy may take to connect, whoever waits for it (the caller waits only within its own deadline). */
const OPEN_LIMIT_MS = 10_000

interface Waiter {
  resolve: (connection: Redis | Cluster) => void
  reject: (error: Error) => void
  fail: (why: string) => Error
}

/**
 * Connections of their own for replica acknowledgements, made as copies of the app's client (a Sentinel's
 * master, a Cluster's slots), opened on need and each lent to one acknowledgement at a time: a WAIT that waits
 * blocks only its own. A caller with none idle waits within its deadline for the first one free (opened for it,
 * or given back), then gives up.
 */
export class AckConnections {
  readonly #source: Redis | Cluster
  readonly #max: number
  readonly #idle: Array<Redis | Cluster> = []
  readonly #all = new Set<Redis | Cluster>()
  readonly #waiters: Waiter[] = []
  /** copies connecting now */
  #opening = 0
  #closed = false

  constructor (source: Redis | Cluster, max: number) {
    this.#source = source
    this.#max = max
  }

  /** Opens up to `count` copies ahead of need, in the background: a process's first ones are slow under load. */
  warm (count: number): void {
    while (this.#all.size < Math.min(count, this.#max) && !this.#closed) this.#open()
  }

  async use<T> (
    deadlineMs: number, fail: (why: string) => Error, work: (connection: Redis | Cluster) => Promise<T>
  ): Promise<T> {
    const connection = await this.#take(deadlineMs, fail)
    let result: T
    try {
      result = await work(connection)
    } catch (error) {
      this.#recover(connection)
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

  #take (deadlineMs: number, fail: (why: string) => Error): Promise<Redis | Cluster> {
    if (this.#closed) return Promise.reject(fail('closing: no acknowledgement is asked for any more'))
    const idle = this.#idle.pop()
    if (idle) return Promise.resolve(idle)
    if (this.#all.size < this.#max) this.#open()
    // the first connection free wins: the copy just opened, or one given back meanwhile
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (connection) => { clearTimeout(timer); resolve(connection) },
        reject: (error) => { clearTimeout(timer); reject(error) },
        fail
      }
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
        reject(fail(this.#opening > 0
          ? `no connection for the acknowledgement: not connected within ${deadlineMs} ms`
          : `all ${this.#max} acknowledgement connections were busy for ${deadlineMs} ms`))
      }, deadlineMs)
      this.#waiters.push(waiter)
    })
  }

  /**
   * Opens a copy in the background: it keeps the source's options (no offline queue, the store deadline as command
   * timeout), and connects before it is lent, as a command's primary is told by the connection's server. It goes to
   * the first caller waiting, or waits idle: one that opens after its caller gave up serves the next, where closing
   * it would leave a slow-connecting pool (a Cluster copy meets every node) failing every caller. A copy on a
   * demoted Sentinel master fails its next acknowledgement and is replaced.
   */
  #open (): void {
    const source = this.#source
    const connection: Redis | Cluster = source instanceof Cluster
      ? source.duplicate(undefined, { lazyConnect: true })
      : source.duplicate({ lazyConnect: true })
    connection.on('error', () => {}) // each command reports its own failure; the source's listener logs
    if (connection instanceof Cluster) refreshSlotsOnNodeFailure(connection)
    this.#all.add(connection)
    this.#opening++
    // a Cluster copy keeps retrying while the cluster is down, its connect() pending: given up after a while
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`not connected within ${OPEN_LIMIT_MS} ms`)), OPEN_LIMIT_MS).unref()
    })
    const connected = async () => {
      await connection.connect()
      // a copy lent with a node's connection still opening (a primary's, or a replica's once promoted) would have
      // its commands refused
      if (connection instanceof Cluster) await connectEveryNode(connection, OPEN_LIMIT_MS)
    }
    Promise.race([connected(), late]).then(() => {
      if (this.#closed || !this.#all.has(connection)) connection.disconnect()
      else this.#give(connection)
    }, (error: unknown) => {
      this.#all.delete(connection)
      connection.disconnect()
      // the caller that asked for it is told at once, not at its deadline
      const waiter = this.#waiters.shift()
      waiter?.reject(waiter.fail(`no connection for the acknowledgement: ${(error as Error).message}`))
    }).finally(() => {
      clearTimeout(timer)
      this.#opening--
    })
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

  /**
   * After a failed acknowledgement (a failover, a node gone): a Cluster copy follows the cluster on its own, so it
   * asks for the slot map again and is lent again (a fresh one would meet every node first, under load); a copy of
   * one server may sit on a demoted Sentinel master, so it is closed and the next caller gets a fresh copy, which
   * finds the master as it is now.
   */
  #recover (connection: Redis | Cluster): void {
    if (connection instanceof Cluster && connection.status === 'ready') {
      connection.refreshSlotsCache()
      this.#give(connection)
    } else {
      this.#discard(connection)
    }
  }

  #discard (connection: Redis | Cluster): void {
    this.#all.delete(connection)
    connection.disconnect()
    // a caller waiting for a lent one gets a fresh copy in its place, if it opens within the caller's deadline
    if (this.#waiters.length > this.#opening && this.#all.size < this.#max && !this.#closed) this.#open()
  }

  #give (connection: Redis | Cluster): void {
    if (this.#closed) return
    const waiter = this.#waiters.shift()
    if (waiter) waiter.resolve(connection)
    else this.#idle.push(connection)
  }
}
