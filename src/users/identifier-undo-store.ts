import type { IdentifierKind } from './user-repository.ts'

/** What an undo link restores: the identifier a change replaced, on the account it was taken from. */
export interface IdentifierUndo {
  userId: string
  kind: IdentifierKind
  /** the identifier before the change, normalised */
  previous: string
  /** epoch ms: past this the link is refused, whatever the store still holds */
  expiresAt: number
}

/**
 * What the store keeps of a link: the IdentifierUndo sealed under a key derived from the link's token, so that
 * without the token (only the old address has it) the entry names no user and no address, also after the
 * account is deleted.
 */
export interface StoredUndo {
  sealed: string
  /** epoch ms: past this the link is refused, whatever the store still holds */
  expiresAt: number
}

/**
 * The pending undo links of identifier changes, each under a keyed hash of its token (the token itself is never
 * stored). Contract, held by both adapters:
 * - `take(key)` returns the entry and removes it in one atomic step: of two concurrent takes, one gets it;
 * - an entry is gone after `ttlSeconds`; `put` of a key that exists replaces it.
 */
export interface IdentifierUndoStore {
  put (key: string, undo: StoredUndo, ttlSeconds: number): Promise<void>
  take (key: string): Promise<StoredUndo | null>
}
