/**
 * Opens after `threshold` consecutive failed deliveries and stays open for `openMs`; then requests flow again,
 * and one more failure re-opens it at once. While open, every request for the channel is refused up front, so
 * a failing provider gives everyone the same answer whatever the identifier (no account enumeration through
 * outages) and stops piling up slow calls.
 */
export class CircuitBreaker {
  readonly #threshold: number
  readonly #openMs: number
  readonly #now: () => number
  #failures = 0
  #openUntil = 0

  constructor (options: { threshold: number, openMs: number, now?: () => number }) {
    this.#threshold = options.threshold
    this.#openMs = options.openMs
    this.#now = options.now ?? Date.now
  }

  /** 0 when requests may go through, else the ms until they may. */
  retryAfterMs (): number {
    return Math.max(0, this.#openUntil - this.#now())
  }

  recordSuccess (): void {
    this.#failures = 0
  }

  recordFailure (): void {
    this.#failures++
    if (this.#failures >= this.#threshold) this.#openUntil = this.#now() + this.#openMs
  }
}
