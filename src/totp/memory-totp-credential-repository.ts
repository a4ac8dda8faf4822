import type { PendingCredential, TotpCredential, TotpCredentialRepository } from './totp-credential-repository.ts'

/**
 * The TotpCredentialRepository contract in process memory, for the embedded mode and tests. No method awaits
 * before it is done, so each is atomic on Node's single thread.
 */
export class MemoryTotpCredentialRepository implements TotpCredentialRepository {
  readonly #credentials = new Map<string, TotpCredential>()
  /** `<userId>:<hash>` of consumed recovery codes, as the MongoDB adapter keeps them */
  readonly #used = new Set<string>()

  async init (): Promise<void> {}

  async find (userId: string): Promise<TotpCredential | null> {
    const credential = this.#credentials.get(userId)
    return credential ? structuredClone(credential) : null
  }

  async savePending ({ userId, enrolmentId, secret, createdAt }: PendingCredential): Promise<boolean> {
    if (this.#credentials.get(userId)?.status === 'active') return false
    this.#credentials.set(userId, { userId, status: 'pending', enrolmentId, secret: { ...secret }, recoveryCodeHashes: [], createdAt: new Date(createdAt), confirmedAt: null })
    return true
  }

  async activate (
    userId: string, enrolmentId: string, recoveryCodeHashes: readonly string[], at: Date
  ): Promise<boolean> {
    const credential = this.#credentials.get(userId)
    if (credential?.status !== 'pending' || credential.enrolmentId !== enrolmentId) return false
    Object.assign(credential, { status: 'active', recoveryCodeHashes: [...recoveryCodeHashes], confirmedAt: new Date(at) })
    return true
  }

  async replaceRecoveryCodes (
    userId: string, enrolmentId: string, recoveryCodeHashes: readonly string[]
  ): Promise<boolean> {
    const credential = this.#active(userId)
    if (credential?.enrolmentId !== enrolmentId) return false
    credential.recoveryCodeHashes = [...recoveryCodeHashes]
    this.#forgetUsed(userId)
    return true
  }

  async consumeRecoveryCode (userId: string, codeHash: string): Promise<boolean> {
    const key = `${userId}:${codeHash}`
    if (!this.#active(userId)?.recoveryCodeHashes.includes(codeHash) || this.#used.has(key)) return false
    this.#used.add(key)
    return true
  }

  async remainingRecoveryCodes (userId: string): Promise<number> {
    const hashes = this.#active(userId)?.recoveryCodeHashes ?? []
    return hashes.filter((hash) => !this.#used.has(`${userId}:${hash}`)).length
  }

  async remove (userId: string, enrolmentId: string): Promise<boolean> {
    if (this.#credentials.get(userId)?.enrolmentId !== enrolmentId) return false
    this.#credentials.delete(userId)
    this.#forgetUsed(userId)
    return true
  }

  #active (userId: string): TotpCredential | undefined {
    const credential = this.#credentials.get(userId)
    return credential?.status === 'active' ? credential : undefined
  }

  #forgetUsed (userId: string): void {
    for (const key of this.#used) if (key.startsWith(`${userId}:`)) this.#used.delete(key)
  }
}
