/** One passkey of a user: a WebAuthn credential registered with this RP. */
export interface Passkey {
  /** ours, opaque: what the API names it by */
  id: string
  userId: string
  /** the authenticator's credential id, base64url; unique across users */
  credentialId: string
  /** the COSE public key, base64url; never leaves the server */
  publicKey: string
  /** the signature counter last seen; 0 for authenticators that keep none */
  counter: number
  transports: string[]
  /** the credential is backed up (synced) by its provider */
  backedUp: boolean
  name: string
  createdAt: Date
  lastUsedAt: Date | null
}

/** What `add` did: stored it, found the user at the limit, or found the credential id already registered. */
export type PasskeyAddOutcome = 'added' | 'limit_reached' | 'duplicate'

/**
 * Where passkeys live. User ids are opaque strings. Returned passkeys are copies.
 * - `add`: stores the passkey unless its user already has `maxPerUser` (limit_reached) or its credential id is
 *   registered (duplicate); concurrent adds never leave a user with more than `maxPerUser`.
 * - `listByUser`: the user's passkeys, oldest first.
 * - `findByCredentialId`: the passkey of that credential id, or null.
 * - `recordUse`: sets the counter and lastUsedAt when the stored counter is still `previousCounter`; false
 *   otherwise (a concurrent use moved it, or it is gone), so a counter never moves backwards.
 * - `rename`: the renamed passkey of that user, or null when the user has none of that id.
 * - `remove`: true when the user's passkey of that id was deleted.
 * - `removeAll`: deletes every passkey of the user; answers how many.
 */
export interface PasskeyRepository {
  /** Creates collections and indexes; idempotent. */
  init (): Promise<void>
  add (passkey: Passkey, maxPerUser: number): Promise<PasskeyAddOutcome>
  listByUser (userId: string): Promise<Passkey[]>
  findByCredentialId (credentialId: string): Promise<Passkey | null>
  recordUse (credentialId: string, previousCounter: number, counter: number, at: Date): Promise<boolean>
  rename (userId: string, id: string, name: string): Promise<Passkey | null>
  remove (userId: string, id: string): Promise<boolean>
  removeAll (userId: string): Promise<number>
}
