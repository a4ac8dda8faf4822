import { createCipheriv, createDecipheriv, createHmac, type KeyObject } from 'node:crypto'
import { randomBytes } from '../random-bytes.ts'
import { secretKey } from '../sessions/tokens.ts'
import { AppError, isAppError } from '../errors.ts'
import type { IdentifierUndo, IdentifierUndoStore, StoredUndo } from '../users/identifier-undo-store.ts'
import type { IdentifierKind, UserRepository } from '../users/user-repository.ts'
import type { SessionService } from './session-service.ts'

/** how long the old address can take a change back */
export const UNDO_LINK_DAYS = 7
const UNDO_LINK_SECONDS = UNDO_LINK_DAYS * 86_400
const TOKEN = /^[\w-]{43}$/

export interface IdentifierUndoLinksOptions {
  store: IdentifierUndoStore
  users: Pick<UserRepository, 'findById' | 'attachIdentifier'>
  sessions: Pick<SessionService, 'endAll'>
  /**
   * the page that reads `#token=…` and posts it to POST /v1/auth/identifier/undo (IDENTIFIER_UNDO_URL); unset, no
   * link is made and notices go without one
   */
  baseUrl: string | undefined
  /** keys the stored hashes of the tokens */
  key: KeyObject
  now: () => Date
}

const invalidLink = () => new AppError('undo_link_invalid')

/**
 * Undo links for the address an identifier change replaced: a single-use token of 256 random bits, valid
 * UNDO_LINK_DAYS, stored only as an HMAC under a server key (a store leak yields no usable link), and what
 * it restores sealed under a key derived from the token (the entry names nobody without it, after an erasure
 * too). Following it puts the old identifier back and ends every session of the user. The token rides in the
 * URL fragment, which browsers never send, as magic links do.
 * Round trips: make, R one SET; undo, R GETDEL, then M the user ∥ R + M ending every session, then M the attach.
 */
export class IdentifierUndoLinks {
  readonly #options: IdentifierUndoLinksOptions

  constructor (options: IdentifierUndoLinksOptions) {
    this.#options = options
  }

  /** A new link that gives `previous` back to the user, for the notice to `previous`; null without a page for it. */
  async make (userId: string, kind: IdentifierKind, previous: string): Promise<string | null> {
    if (this.#options.baseUrl === undefined) return null
    const token = randomBytes(32).toString('base64url')
    const expiresAt = this.#options.now().getTime() + UNDO_LINK_SECONDS * 1000
    const sealed = this.#seal(token, { userId, kind, previous, expiresAt })
    await this.#options.store.put(this.#keyOf(token), sealed, UNDO_LINK_SECONDS)
    const url = new URL(this.#options.baseUrl)
    url.hash = new URLSearchParams({ token }).toString()
    return url.href
  }

  /**
   * Takes the link's entry (so it works once), ends every session of the user, then gives the old identifier back.
   * Unknown, expired and used tokens get the same 410. When another account holds the old identifier by now: 409
   * conflict, the sessions stay ended, and the entry is put back for the rest of its life, so the owner can try
   * again once support has freed it.
   */
  async undo (token: string): Promise<IdentifierUndo> {
    const { store, users, sessions, now } = this.#options
    if (!TOKEN.test(token)) throw invalidLink()
    const key = this.#keyOf(token)
    const stored = await store.take(key)
    const at = now()
    if (stored === null || stored.expiresAt <= at.getTime()) throw invalidLink()
    const undo = this.#open(token, stored)
    const [user] = await Promise.all([users.findById(undo.userId), sessions.endAll(undo.userId)])
    if (user === null) throw invalidLink()
    try {
      await users.attachIdentifier(undo.userId, undo.kind, undo.previous, at)
    } catch (error) {
      if (isAppError(error) && error.code === 'conflict') {
        await store.put(key, stored, Math.max(1, Math.ceil((undo.expiresAt - at.getTime()) / 1000)))
        throw new AppError('conflict', { detail: `Another account uses this ${undo.kind === 'email' ? 'email address' : 'phone number'} by now; contact support.` })
      }
      throw error
    }
    return undo
  }

  /** AES-256-GCM under HMAC(server key, token): neither the store alone nor the token alone opens it */
  #seal (token: string, undo: IdentifierUndo): StoredUndo {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#sealingKey(token), iv)
    const { expiresAt, ...restored } = undo
    const sealed = Buffer.concat([cipher.update(JSON.stringify(restored)), cipher.final()])
    return { sealed: Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url'), expiresAt }
  }

  #open (token: string, { sealed, expiresAt }: StoredUndo): IdentifierUndo {
    const bytes = Buffer.from(sealed, 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', this.#sealingKey(token), bytes.subarray(0, 12))
    decipher.setAuthTag(bytes.subarray(12, 28))
    const opened = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8')
    return { ...JSON.parse(opened) as Omit<IdentifierUndo, 'expiresAt'>, expiresAt }
  }

  #sealingKey (token: string): Buffer {
    return createHmac('sha256', this.#options.key).update('seal\0').update(token).digest()
  }

  /** the store's key: an HMAC, so the lookup needs the server key and no stored value is a token */
  #keyOf (token: string): string {
    return createHmac('sha256', this.#options.key).update(token).digest('base64url')
  }
}

/** The key of the stored hashes, derived from the refresh-token key so no new secret is needed. */
export const identifierUndoKey = (refreshTokenKey: KeyObject): KeyObject =>
  secretKey(createHmac('sha256', refreshTokenKey).update('otp-gate identifier-undo key'))
