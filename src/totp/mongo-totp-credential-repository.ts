import { Schema, type Connection, type Model } from 'mongoose'
import { claimById, isDuplicateKey } from '../stores/mongo-claims.ts'
import type { SealedSecret } from './secret-box.ts'
import type { PendingCredential, TotpCredential, TotpCredentialRepository, TotpCredentialStatus } from './totp-credential-repository.ts'

interface CredentialDocument extends Omit<TotpCredential, 'userId'> { _id: string }

/** `_id` is `<userId>:<code hash>`: inserting the document is the atomic use of a recovery code. */
interface UseDocument { _id: string, userId: string, usedAt: Date }

const sealedSchema = new Schema<SealedSecret>({
  kid: { type: String, required: true },
  iv: { type: String, required: true },
  ciphertext: { type: String, required: true },
  tag: { type: String, required: true }
}, { _id: false })

const credentialSchema = new Schema<CredentialDocument>({
  _id: { type: String, required: true },
  status: { type: String, enum: ['pending', 'active'] satisfies TotpCredentialStatus[], required: true },
  enrolmentId: { type: String, required: true },
  secret: { type: sealedSchema, required: true },
  recoveryCodeHashes: { type: [String], default: [] },
  createdAt: { type: Date, required: true },
  confirmedAt: { type: Date, default: null }
}, { collection: 'totp_credentials', versionKey: false })

const useSchema = new Schema<UseDocument>({
  _id: { type: String, required: true },
  userId: { type: String, required: true },
  usedAt: { type: Date, required: true }
}, { collection: 'totp_recovery_code_uses', versionKey: false })
useSchema.index({ userId: 1 })

const useKey = (userId: string, codeHash: string) => `${userId}:${codeHash}`

function toCredential ({ _id, secret, ...rest }: CredentialDocument): TotpCredential {
  return {
    userId: _id,
    status: rest.status,
    enrolmentId: rest.enrolmentId,
    secret: { kid: secret.kid, iv: secret.iv, ciphertext: secret.ciphertext, tag: secret.tag },
    recoveryCodeHashes: [...rest.recoveryCodeHashes],
    createdAt: rest.createdAt,
    confirmedAt: rest.confirmedAt
  }
}

/**
 * TotpCredentialRepository on MongoDB: one document per user in `totp_credentials`, and one per consumed recovery
 * code in `totp_recovery_code_uses`. A code is consumed by inserting its `_id` rather than by pulling it from the
 * credential's array: the insert is the compare-and-set (`_id` is unique), and it keeps when each code was used.
 */
export class MongoTotpCredentialRepository implements TotpCredentialRepository {
  readonly #credentials: Model<CredentialDocument>
  readonly #uses: Model<UseDocument>

  constructor (connection: Connection) {
    this.#credentials = connection.model<CredentialDocument>('TotpCredential', credentialSchema)
    this.#uses = connection.model<UseDocument>('TotpRecoveryCodeUse', useSchema)
  }

  async init (): Promise<void> {
    await this.#credentials.createCollection()
    await this.#uses.createCollection()
    await this.#uses.createIndexes()
  }

  async find (userId: string): Promise<TotpCredential | null> {
    const credential = await this.#credentials.findById(userId).lean<CredentialDocument>()
    return credential ? toCredential(credential) : null
  }

  async savePending ({ userId, enrolmentId, secret, createdAt }: PendingCredential): Promise<boolean> {
    const document = { status: 'pending', enrolmentId, secret, recoveryCodeHashes: [], createdAt, confirmedAt: null }
    try {
      // an active credential does not match, so the upsert tries to insert its _id and fails
      await this.#credentials.replaceOne({ _id: userId, status: 'pending' }, document, { upsert: true })
      return true
    } catch (error) {
      if (isDuplicateKey(error)) return false
      throw error
    }
  }

  async activate (
    userId: string, enrolmentId: string, recoveryCodeHashes: readonly string[], at: Date
  ): Promise<boolean> {
    const result = await this.#credentials.updateOne(
      { _id: userId, status: 'pending', enrolmentId },
      { $set: { status: 'active', recoveryCodeHashes: [...recoveryCodeHashes], confirmedAt: at } }
    )
    return result.matchedCount === 1
  }

  async replaceRecoveryCodes (
    userId: string, enrolmentId: string, recoveryCodeHashes: readonly string[]
  ): Promise<boolean> {
    const result = await this.#credentials.updateOne({ _id: userId, status: 'active', enrolmentId }, { $set: { recoveryCodeHashes: [...recoveryCodeHashes] } })
    if (result.matchedCount !== 1) return false
    // after the new set is in place: the old codes no longer match, so their uses can go
    await this.#uses.deleteMany({ userId, _id: { $nin: recoveryCodeHashes.map((hash) => useKey(userId, hash)) } })
    return true
  }

  async consumeRecoveryCode (userId: string, codeHash: string): Promise<boolean> {
    const current = await this.#credentials.exists({ _id: userId, status: 'active', recoveryCodeHashes: codeHash })
    if (!current) return false
    return await claimById(this.#uses, { _id: useKey(userId, codeHash), userId, usedAt: new Date() })
  }

  async remainingRecoveryCodes (userId: string): Promise<number> {
    const credential = await this.#credentials.findOne({ _id: userId, status: 'active' }).lean<CredentialDocument>()
    if (!credential) return 0
    const hashes = credential.recoveryCodeHashes
    const used = await this.#uses.countDocuments({ _id: { $in: hashes.map((hash) => useKey(userId, hash)) } })
    return hashes.length - used
  }

  async remove (userId: string, enrolmentId: string): Promise<boolean> {
    const result = await this.#credentials.deleteOne({ _id: userId, enrolmentId })
    if (result.deletedCount !== 1) return false
    await this.#uses.deleteMany({ userId })
    return true
  }
}
