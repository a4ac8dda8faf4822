/** provider latencies kept per channel: enough to draw from, few enough to follow a provider that slows down */
const KEPT = 64
/** before a provider has answered once: what a provider call usually takes, so a first decoy is not instant */
const PRIOR_MS = [80, 120, 160, 200, 240]

/**
 * The latencies a provider was observed to take, to draw a decoy's wait from: a job that is not sent (a decoy of
 * an identifier with no account) then holds the worker as long as one that is, without the network call.
 */
export class LatencySample {
  readonly #kept: number[] = []
  #next = 0

  record (ms: number): void {
    if (this.#kept.length < KEPT) this.#kept.push(ms)
    else this.#kept[this.#next] = ms
    this.#next = (this.#next + 1) % KEPT
  }

  /** One of the observed latencies (else of the prior), at random. */
  draw (random: () => number = Math.random): number {
    const from = this.#kept.length > 0 ? this.#kept : PRIOR_MS
    return from[Math.floor(random() * from.length)] ?? 0
  }
}
