import type { Passkey, PasskeyAddOutcome, PasskeyRepository } from './passkey-repository.ts'

/**
 * The PasskeyRepository contract in process memory, for the embedded mode and tests. No method awaits before it
 * is done, so each is atomic on Node's single thread.
 */
export class MemoryPasskeyRepository implements PasskeyRepository {
  /** by our id, in insertion order (oldest first) */
  readonly #passkeys = new Map<string, Passkey>()

  async init (): Promise<void> {}

  async add (passkey: Passkey, maxPerUser: number): Promise<PasskeyAddOutcome> {
    const all = [...this.#passkeys.values()]
    if (all.some((stored) => stored.credentialId === passkey.credentialId)) return 'duplicate'
    if (all.filter((stored) => stored.userId === passkey.userId).length >= maxPerUser) return 'limit_reached'
    this.#passkeys.set(passkey.id, structuredClone(passkey))
    return 'added'
  }

  async listByUser (userId: string): Promise<Passkey[]> {
    return [...this.#passkeys.values()].filter((passkey) => passkey.userId === userId)
      .map((passkey) => structuredClone(passkey))
  }

  async findByCredentialId (credentialId: string): Promise<Passkey | null> {
    const found = [...this.#passkeys.values()].find((passkey) => passkey.credentialId === credentialId)
    return found === undefined ? null : structuredClone(found)
  }

  async recordUse (credentialId: string, previousCounter: number, counter: number, at: Date): Promise<boolean> {
    const found = [...this.#passkeys.values()].find((passkey) => passkey.credentialId === credentialId)
    if (found?.counter !== previousCounter) return false
    found.counter = counter
    found.lastUsedAt = new Date(at)
    return true
  }

  async rename (userId: string, id: string, name: string): Promise<Passkey | null> {
    const found = this.#passkeys.get(id)
    if (found?.userId !== userId) return null
    found.name = name
    return structuredClone(found)
  }

  async remove (userId: string, id: string): Promise<boolean> {
    if (this.#passkeys.get(id)?.userId !== userId) return false
    return this.#passkeys.delete(id)
  }

  async removeAll (userId: string): Promise<number> {
    const ids = [...this.#passkeys.values()].filter((passkey) => passkey.userId === userId).map((passkey) => passkey.id)
    for (const id of ids) this.#passkeys.delete(id)
    return ids.length
  }
}
