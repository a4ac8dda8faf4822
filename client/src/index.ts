export { createClient, type ClientOptions, type OtpGateClient } from './client.ts'
export { OtpGateError, type ClientErrorCode } from './errors.ts'
export { memoryStorage, type TokenStorage } from './storage.ts'
export type {
  AccountExport, AccountProof, AuthChangeEvent, AuthChangeListener, Challenge, ErrorCode, FieldError, Identifier,
  MfaMethod, Passkey, PasskeyProof, Problem, ProfileChanges,
  SessionInfo, SignInResult, StoredTokens, TotpEnrolment, TotpStatus, User
} from './types.ts'
export type { paths, components, operations } from './openapi.ts'
