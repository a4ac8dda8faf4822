import type { DeliveryError } from './senders.ts'

/** Provider statuses of refused credentials: SendGrid's HTTP 401/403, Vonage's HTTP 401 and its status 4. */
const AUTHENTICATION_FAILURES = new Set(['401', '403', '4'])

/**
 * Whether a failed send counts against the provider's circuit: 5xx, timeouts, throttling, refused credentials
 * (and a sender's bug, `undefined`) are the provider's fault; an invalid or barred destination, chosen by whoever
 * asked for the code, never is, so nobody can open the circuit for everyone by choosing destinations.
 */
export function isProviderFailure (failure: DeliveryError | undefined): boolean {
  if (failure === undefined || failure.kind === 'transient') return true
  return failure.kind === 'rejected' && AUTHENTICATION_FAILURES.has(String(failure.providerStatus))
}

/**
 * Opens after `threshold` consecutive failed deliveries and stays open for `openMs`; then requests flow again,
 * and the count starts over. While open, every request for the channel is refused up front, so
 * a failing provider gives everyone the same answer whatever the identifier (no account enumeration through
 * outages) and stops piling up slow calls.
 */
export class CircuitBreaker {
  readonly #threshold: number
  readonly #openMs: number
  readonly #now: () => number
  #failures = 0
  #openUntil = 0

  readonly #onOpen: (openUntil: number) => void

  /** `onOpen`: told each time the breaker opens itself, with when it closes (epoch ms on its clock) */
  constructor (
    options: { threshold: number, openMs: number, now?: () => number, onOpen?: (openUntil: number) => void }
  ) {
    this.#threshold = options.threshold
    this.#openMs = options.openMs
    this.#now = options.now ?? Date.now
    this.#onOpen = options.onOpen ?? (() => {})
  }

  /** Opened elsewhere (another process's breaker for the same provider): open here too, until then. */
  openUntil (until: number): void {
    this.#openUntil = Math.max(this.#openUntil, until)
  }

  /** 0 when requests may go through, else the ms until they may. */
  retryAfterMs (): number {
    return Math.max(0, this.#openUntil - this.#now())
  }

  recordSuccess (): void {
    this.#failures = 0
  }

  recordFailure (): void {
    // open already: a send that fails now (a retry of one that failed before) says nothing new, and opening
    // again from here would hold the channel shut long after the provider is back
    if (this.retryAfterMs() > 0) return
    // a circuit that opened and closed again starts counting anew
    if (this.#openUntil > 0 && this.#now() >= this.#openUntil) {
      this.#openUntil = 0
      this.#failures = 0
    }
    this.#failures++
    if (this.#failures < this.#threshold) return
    this.#openUntil = this.#now() + this.#openMs
    this.#onOpen(this.#openUntil)
  }
}
