import type { Cluster, Redis } from 'ioredis'
import type { Channel } from './delivery.ts'

const CHANNELS: Channel[] = ['email', 'sms']

export interface CircuitBoardOptions {
  keyPrefix?: string
  /** how often a process reads what the others opened */
  pollMs?: number
  /** the server's clock is not the process's: an open circuit is stored with its remaining time (PX) */
  now?: () => number
  onError?: (error: unknown) => void
}

/**
 * Open delivery circuits, shared through Redis by every process: the one whose sends keep failing (a worker)
 * publishes when its breaker opens, and every process, the API included, reads the board in the background
 * and refuses the channel until then. No round trip on a request: the read runs on a timer. Keys share the
 * `{delivery}` hash tag, so one MGET reads both channels on a Cluster.
 */
export class CircuitBoard {
  readonly #redis: Redis | Cluster
  readonly #keys: Record<Channel, string>
  readonly #options: CircuitBoardOptions
  #timer: NodeJS.Timeout | undefined

  constructor (redis: Redis | Cluster, options: CircuitBoardOptions = {}) {
    this.#redis = redis
    this.#options = options
    const prefix = `${options.keyPrefix ?? ''}{delivery}:circuit:`
    this.#keys = { email: `${prefix}email`, sms: `${prefix}sms` }
  }

  /** This process's breaker opened: every process refuses the channel until `until` (epoch ms). */
  async publish (channel: Channel, until: number): Promise<void> {
    const now = (this.#options.now ?? Date.now)()
    if (until > now) await this.#redis.set(this.#keys[channel], String(until), 'PX', until - now)
  }

  /** The circuits others opened, each with when it closes (epoch ms). */
  async read (): Promise<Partial<Record<Channel, number>>> {
    const values = await this.#redis.mget(...CHANNELS.map((channel) => this.#keys[channel]))
    const open: Partial<Record<Channel, number>> = {}
    CHANNELS.forEach((channel, index) => { if (values[index] != null) open[channel] = Number(values[index]) })
    return open
  }

  /** Reads the board every pollMs and hands what is open to `apply`; a failed read is reported and skipped. */
  watch (apply: (channel: Channel, until: number) => void): void {
    const poll = async () => {
      try {
        for (const [channel, until] of Object.entries(await this.read()) as Array<[Channel, number]>) {
          apply(channel, until)
        }
      } catch (error) {
        this.#options.onError?.(error)
      }
    }
    this.#timer = setInterval(() => { poll().catch(() => {}) }, this.#options.pollMs ?? 1000)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
  }
}
