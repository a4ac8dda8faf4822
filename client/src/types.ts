import type { components, operations } from './openapi.ts'

type Schemas = components['schemas']
type JsonOf<Operation, Status extends number> =
  Operation extends { responses: Record<Status, { content: { 'application/json': infer Body } }> } ? Body : never

export type User = JsonOf<operations['getMe'], 200>
export type Challenge = JsonOf<operations['startOtp'], 202>
export type Problem = Schemas['Problem']
export type FieldError = Schemas['FieldError']
/** The stable error codes of the API. */
export type ErrorCode = Problem['code']
export type MfaMethod = Extract<JsonOf<operations['verifyOtp'], 200>, { mfaRequired: true }>['methods'][number]
/** One of the user's live sessions, as GET /v1/me/sessions lists them. */
export type SessionInfo = JsonOf<operations['listMySessions'], 200>['sessions'][number]
export type TotpStatus = JsonOf<operations['getTotpStatus'], 200>
export type TotpEnrolment = JsonOf<operations['startTotpEnrolment'], 200>
/** The user's data as GET /v1/me/export answers it. */
export type AccountExport = JsonOf<operations['exportMe'], 200>
/** What proves the account for deleting it, when the sign-in is more than 5 minutes old. */
export type AccountProof = NonNullable<operations['deleteMe']['requestBody']>['content']['application/json']
/** A passkey of the user's, as GET /v1/me/passkeys lists it (never its public key). */
export type Passkey = JsonOf<operations['listPasskeys'], 200>['passkeys'][number]
/** What proves the account for adding or removing a passkey, when the sign-in is more than 5 minutes old. */
export type PasskeyProof = NonNullable<operations['passkeyCreationOptions']['requestBody']>['content']['application/json']
export type PasskeyAddBody = operations['addPasskey']['requestBody']['content']['application/json']
export type PasskeyVerifyBody = operations['verifyPasskey']['requestBody']['content']['application/json']
export type ProfileChanges = NonNullable<operations['updateMe']['requestBody']>['content']['application/json']

/** Who to send a code to: exactly one of an email address or a phone number. */
export type Identifier = { email: string, phone?: never } | { phone: string, email?: never }

/** The tokens the client keeps: the pair the API issued, and when the access token expires (epoch ms). */
export interface StoredTokens {
  accessToken: string
  /** empty where the API keeps it in an httpOnly cookie (session: 'cookie') */
  refreshToken: string
  expiresAt: number
}

/** What verifying a code ends in: signed in, or a second factor is due (complete it with auth.verifyMfa). */
export type SignInResult =
  | { mfaRequired: false, user: User }
  | { mfaRequired: true, mfaToken: string, expiresIn: number, methods: MfaMethod[] }

export type AuthChangeEvent =
  | { type: 'signed_in', user: User | null }
  | { type: 'refreshed' }
  | { type: 'signed_out', reason: 'logout' | 'session_ended' }

export type AuthChangeListener = (event: AuthChangeEvent) => void
