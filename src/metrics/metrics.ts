/**
 * What the product counts, as the flows report it. The Prometheus adapter turns each call into a labelled metric;
 * `NO_METRICS` does nothing, so a server without METRICS_PORT pays one empty call per event. Callers pass what they
 * know (a destination, a route pattern); only the adapter turns a destination into a label (its country), so no
 * identifier, code, token or IP can reach a label from here.
 */
export type MetricsChannel = 'email' | 'sms'
export type VerificationOutcome = 'success' | 'invalid_code' | 'expired' | 'too_many_attempts'
/** `sent`, or the DeliveryError kind of a failed attempt */
export type DeliveryOutcome = 'sent' | 'transient' | 'rejected' | 'invalid_recipient'
export type RefreshOutcome = 'rotated' | 'reused' | 'invalid'
export type StoreName = 'redis' | 'mongodb'
/** `unavailable`: down, timed out or refusing writes for now (503); `error`: any other store error */
export type StoreErrorKind = 'unavailable' | 'error'

export interface Metrics {
  /** a challenge was started and its code issued; `destination` is the normalised email or E.164 phone */
  challengeStarted (channel: MetricsChannel, destination: string): void
  /** a pending challenge got a new code: one more code sent, for the conversion ratio */
  codeResent (channel: MetricsChannel, destination: string): void
  /** the answer to one verify; `destination` only with a success (a failure does not reveal it) */
  verification (channel: MetricsChannel | null, outcome: VerificationOutcome, destination?: string): void
  /** one provider attempt */
  delivery (channel: MetricsChannel, provider: string, outcome: DeliveryOutcome): void
  sessionRefreshed (outcome: RefreshOutcome): void
  /** a 429 from a per-client or per-destination limit; `route` is the route pattern */
  rateLimited (route: string): void
  storeError (store: StoreName, kind: StoreErrorKind): void
  /** the SMS-pumping guard refused a destination; `reason` is a fixed word, never the number */
  smsGuardBlocked (reason: string): void
  /** many number ranges of one country are blocked at once (SMS pumping, for an operator to judge); an ISO code */
  smsGuardCountryAlert (country: string): void
}

const nothing = () => {}

/** Metrics off: every call returns at once. */
export const NO_METRICS: Metrics = Object.freeze({
  challengeStarted: nothing,
  codeResent: nothing,
  verification: nothing,
  delivery: nothing,
  sessionRefreshed: nothing,
  rateLimited: nothing,
  storeError: nothing,
  smsGuardBlocked: nothing,
  smsGuardCountryAlert: nothing
})
