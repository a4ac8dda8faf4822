import { storeErrorSummary } from '../stores/store-errors.ts'

export interface WarnLogger {
  warn (fields: object, message: string): void
}

export interface RepeatedErrorLogOptions {
  /** the same error from the same source is logged at most once in this long. Default 10 s */
  intervalMs?: number | undefined
  now?: (() => number) | undefined
}

/** the kinds of error remembered at once: a handful in practice; past this the oldest is forgotten */
const MAX_KINDS = 100

/** What makes two errors "the same": a store error's type, command and reply code; another's name and message. */
function kindOf (error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const summary = storeErrorSummary(error)
  return summary === null ? `${error.name}: ${error.message}` : `${summary.type} ${summary.command ?? ''} ${summary.errorCode ?? ''}`
}

/**
 * Warnings about errors that repeat in a loop (a queue worker retrying every 100 ms against a read-only Redis, a
 * client reconnecting): the first of a kind from a source (the message) is logged, its repeats within the interval
 * are counted, and the next line logged for them after the interval carries `suppressed`, the count left out.
 * The count is told when the error comes again, not when it stops.
 */
export class RepeatedErrorLog {
  readonly #logger: WarnLogger
  readonly #intervalMs: number
  readonly #now: () => number
  readonly #seen = new Map<string, { loggedAt: number, suppressed: number }>()

  constructor (logger: WarnLogger, options: RepeatedErrorLogOptions = {}) {
    this.#logger = logger
    this.#intervalMs = options.intervalMs ?? 10_000
    this.#now = options.now ?? Date.now
  }

  /** Logs `fields` (`{ err: error }` unless given) under `message`, unless this error was logged from there lately. */
  warn (error: unknown, message: string, fields: object = { err: error }): void {
    const key = `${message}\u0000${kindOf(error)}`
    const now = this.#now()
    const seen = this.#seen.get(key)
    if (seen !== undefined && now - seen.loggedAt < this.#intervalMs) {
      seen.suppressed++
      return
    }
    this.#seen.delete(key)
    this.#seen.set(key, { loggedAt: now, suppressed: 0 })
    if (this.#seen.size > MAX_KINDS) this.#seen.delete(this.#seen.keys().next().value!)
    const suppressed = seen?.suppressed ?? 0
    this.#logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message)
  }
}
