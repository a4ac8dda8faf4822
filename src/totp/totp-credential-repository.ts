import type { SealedSecret } from './secret-box.ts'

export type TotpCredentialStatus = 'pending' | 'active'

/** One user's authenticator app: at most one per user, pending until a first code confirms it. */
export interface TotpCredential {
  userId: string
  status: TotpCredentialStatus
  /** names this enrolment: confirming, removing and regenerating act only on the one they checked a code of */
  enrolmentId: string
  secret: SealedSecret
  /** hashes of the current recovery codes (empty while pending), used ones included */
  recoveryCodeHashes: string[]
  createdAt: Date
  confirmedAt: Date | null
}

export interface PendingCredential {
  userId: string
  enrolmentId: string
  secret: SealedSecret
  createdAt: Date
}

/**
 * Where authenticator credentials and recovery codes live. User ids are opaque strings. Returned credentials are
 * copies. Writes are conditional on the status and enrolment the caller checked, so a stale caller changes nothing.
 *
 * - `savePending`: stores a pending credential, replacing a pending one; false (nothing stored) when the user
 *   has an active one.
 * - `activate`: the pending credential of that enrolment becomes active with these recovery codes; false when
 *   there is no such pending credential.
 * - `replaceRecoveryCodes`: the active credential of that enrolment gets a new set; the old codes stop working.
 * - `consumeRecoveryCode`: true once for a code of the user's active set, false for anything else; of concurrent
 *   calls with one code exactly one gets true.
 * - `remainingRecoveryCodes`: codes of the current set not consumed yet (0 without an active credential).
 * - `remove`: deletes the credential of that enrolment (pending or active) and its codes; false when none.
 */
export interface TotpCredentialRepository {
  /** Creates collections and indexes; idempotent. */
  init (): Promise<void>
  find (userId: string): Promise<TotpCredential | null>
  savePending (credential: PendingCredential): Promise<boolean>
  activate (userId: string, enrolmentId: string, recoveryCodeHashes: readonly string[], at: Date): Promise<boolean>
  replaceRecoveryCodes (userId: string, enrolmentId: string, recoveryCodeHashes: readonly string[]): Promise<boolean>
  consumeRecoveryCode (userId: string, codeHash: string): Promise<boolean>
  remainingRecoveryCodes (userId: string): Promise<number>
  remove (userId: string, enrolmentId: string): Promise<boolean>
}
