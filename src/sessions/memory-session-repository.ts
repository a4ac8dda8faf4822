import {
  isSessionId, sameHash, staleRotationOutcome,
  type NewSession, type RotateResult, type Rotation, type Session, type SessionRepository
} from './session-repository.ts'

type SessionRecord = Session

/** Expired sessions are dropped at most this often, the in-process stand-in for MongoDB's TTL monitor. */
const SWEEP_INTERVAL_MS = 60_000

const isLive = (session: Session, now: Date) =>
  session.revokedAt === null && now.getTime() < session.expiresAt.getTime()

function toSession (session: SessionRecord): Session {
  return structuredClone(session)
}

/**
 * SessionRepository in process memory, for the embedded mode and tests. No method awaits between reading and
 * writing, so each one is atomic on Node's single thread, which is what the compare-and-swap asks for.
 */
export class MemorySessionRepository implements SessionRepository {
  readonly #sessions = new Map<string, SessionRecord>()
  #lastSweep = 0

  async init (): Promise<void> {}

  async create (input: NewSession): Promise<Session> {
    this.#sweep(input.now)
    const { id } = input
    if (!isSessionId(id)) throw new Error('a session id is 24 hex digits (tokens.ts newSessionId)')
    // MongoDB refuses a duplicate _id too; with random ObjectIds it means a caller bug
    if (this.#sessions.has(id)) throw new Error('a session with this id already exists')
    const record: SessionRecord = {
      id,
      userId: input.userId,
      tokenHash: input.tokenHash,
      generation: 0,
      amr: [...input.amr],
      createdAt: new Date(input.now),
      lastUsedAt: new Date(input.now),
      expiresAt: new Date(input.expiresAt),
      revokedAt: null,
      userAgent: input.userAgent ?? null,
      ip: input.ip ?? null
    }
    this.#sessions.set(id, record)
    return toSession(record)
  }

  async rotate (rotation: Rotation): Promise<RotateResult> {
    const { sessionId, generation, tokenHash, newHash, now, expiresAt } = rotation
    const record = this.#sessions.get(sessionId)
    if (!record || !isLive(record, now)) return { outcome: 'invalid' }
    if (record.generation === generation && sameHash(record.tokenHash, tokenHash)) {
      record.tokenHash = newHash
      record.generation = generation + 1
      record.lastUsedAt = new Date(now)
      record.expiresAt = new Date(expiresAt)
      return { outcome: 'rotated', session: toSession(record) }
    }
    const outcome = staleRotationOutcome(record, rotation)
    if (outcome === 'invalid') return { outcome }
    if (outcome === 'grace') return { outcome: 'rotated', session: toSession(record) }
    record.revokedAt = new Date(now)
    return { outcome: 'reused', session: toSession(record) }
  }

  async findById (id: string): Promise<Session | null> {
    const record = this.#sessions.get(id)
    return record ? toSession(record) : null
  }

  async listActive (userId: string, now: Date): Promise<Session[]> {
    return [...this.#sessions.values()]
      .filter((record) => record.userId === userId && isLive(record, now))
      .sort((a, b) => b.lastUsedAt.getTime() - a.lastUsedAt.getTime())
      .map(toSession)
  }

  async revoke (id: string, userId: string, now: Date): Promise<boolean> {
    const record = this.#sessions.get(id)
    return this.#revoke(record?.userId === userId ? record : undefined, now)
  }

  async revokeByToken (
    { sessionId, generation, tokenHash }: { sessionId: string, generation: number, tokenHash: string },
    userId: string,
    now: Date
  ): Promise<boolean> {
    const record = this.#sessions.get(sessionId)
    const holds = record !== undefined &&
      (generation < record.generation || (generation === record.generation && sameHash(record.tokenHash, tokenHash)))
    return this.#revoke(holds && record?.userId === userId ? record : undefined, now)
  }

  async revokeAll (userId: string, now: Date): Promise<number> {
    let count = 0
    for (const record of this.#sessions.values()) {
      if (record.userId === userId && this.#revoke(record, now)) count++
    }
    return count
  }

  async deleteByUser (userId: string): Promise<number> {
    let count = 0
    for (const [id, record] of this.#sessions) {
      if (record.userId === userId && this.#sessions.delete(id)) count++
    }
    return count
  }

  async isActive (id: string, now: Date): Promise<boolean> {
    const record = this.#sessions.get(id)
    return record !== undefined && isLive(record, now)
  }

  #revoke (record: SessionRecord | undefined, now: Date): boolean {
    if (!record || !isLive(record, now)) return false
    record.revokedAt = new Date(now)
    return true
  }

  #sweep (now: Date): void {
    if (now.getTime() - this.#lastSweep < SWEEP_INTERVAL_MS) return
    this.#lastSweep = now.getTime()
    for (const [id, record] of this.#sessions) {
      if (now.getTime() >= record.expiresAt.getTime()) this.#sessions.delete(id)
    }
  }
}
