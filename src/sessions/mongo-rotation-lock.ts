import { setTimeout as sleep } from 'node:timers/promises'
import { Schema, type Connection, type Model } from 'mongoose'
import { claimById } from '../mongo-claims.ts'

/** `_id` is the refresh-token hash being rotated: inserting the document takes the lock. */
interface LockDocument { _id: string, takenAt: Date }

const lockSchema = new Schema<LockDocument>({
  _id: { type: String, required: true },
  takenAt: { type: Date, required: true }
}, { collection: 'session_rotation_locks', versionKey: false })

const NOT_IMPLEMENTED = 238

export interface RotationLockOptions {
  /** how long a parallel rotation of the same token waits for the holder; default 1 s */
  waitMs?: number
  /** a lock older than this was left by a crash and is broken; default 10 s (a rotation takes milliseconds) */
  staleMs?: number
  /** the clock lock ages are read on, epoch ms; tests move it to make a lock stale */
  now?: () => number
}

/**
 * One rotation at a time per refresh token, by inserting a document keyed on its hash: `_id` uniqueness is
 * atomic on every MongoDB-wire server. It exists because FerretDB 1.x runs a filtered update as a read followed
 * by an unconditional write (FerretDB#3040), so there the compare-and-swap alone lets two rotations through.
 * Only the `ferretdb` mode takes it: on MongoDB the swap is atomic by itself, and no lock is taken.
 */
export class MongoRotationLock {
  readonly #locks: Model<LockDocument>
  readonly #waitMs: number
  readonly #staleMs: number
  readonly #now: () => number

  constructor (connection: Connection, options: RotationLockOptions = {}) {
    this.#locks = connection.model<LockDocument>('SessionRotationLock', lockSchema)
    this.#waitMs = options.waitMs ?? 1000
    this.#staleMs = options.staleMs ?? 10_000
    this.#now = options.now ?? Date.now
  }

  /** Returns whether the server took the TTL index that clears locks left by crashes (FerretDB 1.x does not). */
  async init (): Promise<boolean> {
    await this.#locks.createCollection()
    try {
      await this.#locks.collection.createIndex({ takenAt: 1 }, { expireAfterSeconds: 3600, name: 'takenAt_ttl' })
      return true
    } catch (error) {
      if ((error as { code?: unknown }).code !== NOT_IMPLEMENTED) throw error
      return false
    }
  }

  async acquire (tokenHash: string): Promise<boolean> {
    return await claimById(this.#locks, { _id: tokenHash, takenAt: new Date(this.#now()) })
  }

  async release (tokenHash: string): Promise<void> {
    // Not worth failing a finished rotation over: a lock left behind only delays a retry until it is stale.
    await this.#locks.deleteOne({ _id: tokenHash }).catch(() => {})
  }

  /** Waits until the holder releases (or a stale lock is broken): true; false when still held after waitMs. */
  async waitForRelease (tokenHash: string): Promise<boolean> {
    const deadline = this.#now() + this.#waitMs
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const lock = await this.#locks.findById(tokenHash).lean<LockDocument>()
      if (!lock) return true
      if (this.#now() - lock.takenAt.getTime() > this.#staleMs) {
        // matching takenAt: a lock retaken since we read it is not the stale one
        await this.#locks.deleteOne({ _id: tokenHash, takenAt: lock.takenAt })
        return true
      }
      if (this.#now() + delay > deadline) return false
      await sleep(delay)
    }
  }
}
