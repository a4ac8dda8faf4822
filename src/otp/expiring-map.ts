/**
 * A Map whose entries lapse at a time of the injected clock: read lazily (an expired entry is never returned)
 * and dropped for good by `sweep`, so memory stays bounded without a timer per entry.
 */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V, expiresAt: number }>()
  readonly #now: () => number

  constructor (now: () => number) {
    this.#now = now
  }

  get (key: string): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.#now()) return entry.value
    this.#entries.delete(key)
    return undefined
  }

  /** ms until the entry lapses; 0 when there is none */
  remainingMs (key: string): number {
    return this.get(key) === undefined ? 0 : this.#entries.get(key)!.expiresAt - this.#now()
  }

  set (key: string, value: V, ttlMs: number): void {
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs })
  }

  delete (key: string): void {
    this.#entries.delete(key)
  }

  sweep (): void {
    const now = this.#now()
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key)
  }

  get size (): number {
    return this.#entries.size
  }
}
