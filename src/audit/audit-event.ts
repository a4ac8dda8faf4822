/** What the security activity log records. */
export const AUDIT_EVENT_TYPES = [
  'sign_in_succeeded',
  'sign_in_failed',
  'sign_in_throttled',
  'refresh_token_reused',
  'session_ended',
  'contact_changed',
  'authenticator_added',
  'authenticator_removed',
  'recovery_code_used',
  'sms_guard_block',
  'account_created',
  'account_updated',
  'identifier_unblocked'
] as const

export type AuditEventType = typeof AUDIT_EVENT_TYPES[number]

/** One entry of the security activity log. Identifiers are masked before they get here (delivery/mask.ts). */
export interface AuditEvent {
  /** 24 hex characters, unique */
  id: string
  type: AuditEventType
  /** null when no account is known (an unknown identifier, an SMS guard block) */
  userId: string | null
  /** the email or phone concerned, masked: `j***@example.org`, `+1******0123` */
  identifier: string | null
  ip: string | null
  userAgent: string | null
  requestId: string | null
  at: Date
  /** authentication methods of a sign-in, succeeded or failed */
  amr: string[] | null
  /** why: `invalid_code`, `logout`, `range_conversion`… */
  reason: string | null
  /** who did it when not the user: `admin:<key name>` for the admin API; null otherwise */
  actor: string | null
}

/** Where an event happened: the request's client and id. */
export interface AuditContext {
  ip: string | null
  userAgent: string | null
  requestId: string | null
}

/** What a flow says about an event; the log adds the id, the time and the request's context. */
export interface AuditFields {
  userId?: string | null
  /** in the clear: the log masks it */
  identifier?: string | null
  amr?: string[] | null
  reason?: string | null
  actor?: string | null
}

/** What a flow needs of the log: record one event, without waiting and without failing. */
export interface AuditRecorder {
  record (type: AuditEventType, fields?: AuditFields): void
}

/** For flows built without a log (unit tests). */
export const NO_AUDIT: AuditRecorder = { record: () => {} }
