import { createHmac } from 'node:crypto'
import { isIPv4, isIPv6 } from 'node:net'
import { isSupportedCountry } from 'libphonenumber-js/max'
import { AppError } from '../errors.ts'
import { hmacKey } from '../hmac-key.ts'
import { phoneCountry, phoneNumberType, type PhoneNumberType } from '../users/identifiers.ts'
import type { SmsBudgetStore } from './sms-budget.ts'
import type { SmsFraudPolicy, SmsFraudStore } from './sms-fraud-store.ts'
import { NO_METRICS, type Metrics } from '../metrics/metrics.ts'

const HOUR_MS = 3_600_000
// a counter outlives its hour a little, so an instance whose clock runs late still counts into it
const COUNTER_SLACK_MS = 5 * 60_000

/**
 * The number types a code may be texted to. MOBILE, and FIXED_LINE_OR_MOBILE (the whole of North America, where
 * the two cannot be told apart); VOIP too, as such numbers (Google Voice…) do receive SMS. Refused: PREMIUM_RATE
 * and SHARED_COST (where SMS pumping earns its money), FIXED_LINE (an SMS to a landline rarely arrives), TOLL_FREE,
 * PERSONAL_NUMBER (UK 070, a known fraud range), PAGER, UAN, VOICEMAIL, and numbers whose type the metadata
 * cannot tell.
 */
export const SMS_NUMBER_TYPES: ReadonlySet<PhoneNumberType> = new Set<PhoneNumberType>(['MOBILE', 'FIXED_LINE_OR_MOBILE', 'VOIP'])

/** Why the guard refused an SMS: the sms_guard_blocks_total{reason} label, and the audit event's reason. */
export type SmsBlockReason = 'country_not_allowed' | 'number_type' | 'country_budget' | 'range_conversion'

export interface SmsBlock {
  reason: SmsBlockReason
  /** the E.164 number refused (audit events mask it) */
  destination: string
  country: string | null
}

/**
 * Many number ranges of one country blocked at once: SMS pumping spread over a country, or someone blocking ranges
 * on purpose. The guard never blocks a whole country (a few ranges would let anyone cut off every number in it):
 * an operator judges, told by this (a log line and a metric to page on).
 */
export interface SmsCountryAlert {
  country: string
  /** the country's ranges blocked now */
  blockedRanges: number
  /** the country's codes sent and verified in the window; null when they could not be read */
  sent: number | null
  verified: number | null
  /**
   * the distinct client networks (/24, /48) those codes were asked from: a handful is someone blocking ranges on
   * purpose (or a small pumping run), thousands a campaign; null when unknown
   */
  networks: number | null
}

/** The conversion guard: sends and verified codes per number range, and the policy that blocks a range. */
export interface SmsConversionGuard {
  store: SmsFraudStore
  policy: SmsFraudPolicy
  /** E.164 prefixes never counted nor blocked */
  allowPrefixes: readonly string[]
}

/**
 * The network a client IP belongs to, as an operator counts distinct sources: its /24 (IPv4, IPv4-mapped too) or
 * its /48 (IPv6), spelled one way. Anything else is returned as given.
 */
export function clientNetwork (ip: string): string {
  const v4 = ip.toLowerCase().startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`
  if (!isIPv6(ip)) return ip
  const [head = '', tail] = ip.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups.slice(0, 3).map((group) => parseInt(group, 16).toString(16)).join(':')}::/48`
}

/** The number range the conversion guard judges: the E.164 number without its last 4 digits. */
export const numberRange = (e164: string): string => e164.slice(0, -4)

export interface SmsGuardOptions {
  /** ISO 3166 region codes as libphonenumber assigns them (GG, JE and IM are not GB); empty = every region */
  allowedCountries: readonly string[]
  /** SMS per destination region per clock hour, across every instance sharing the budget store */
  hourlyBudget: number
  budget: SmsBudgetStore
  /**
   * The part of a country's hourly budget one client IP may spend (0 < share ≤ 1), so draining it needs many
   * IPs. 1 = no share counted.
   */
  clientShare?: number
  /** names a client IP in the budget's keys (an HMAC, so no IP is stored); required with a clientShare below 1 */
  clientKey?: (ip: string) => string
  /** conversion per number range (SMS pumping sends many codes that are never used); off when absent */
  conversion?: SmsConversionGuard | undefined
  /** told of every refusal: an audit event and a metric */
  onBlock?: ((block: SmsBlock) => void) | undefined
  /** told when a country's blocked ranges reach the policy's countryAlertRanges (at most once per block time) */
  onCountryAlert?: ((alert: SmsCountryAlert) => void) | undefined
  /** told when a count could not be written (a fire-and-forget verified count) */
  onError?: ((error: unknown) => void) | undefined
  now?: () => Date
  /** counts each refusal by reason (sms_guard_blocks_total) */
  metrics?: Metrics
}

/** Names a client IP in budget keys by an HMAC: the keys never hold the IP, and instances sharing the secret agree. */
export function hmacClientKey (secret: string): (ip: string) => string {
  const key = hmacKey(secret)
  return (ip) => createHmac('sha256', key).update(`sms-client:${ip}`).digest('base64url').slice(0, 22)
}

/** An SMS the guard let through; `release` gives its budget unit back when no code was issued after all. */
export interface SmsAdmission {
  country: string
  release: () => Promise<void>
}

/**
 * Against SMS pumping (fraudsters making us text numbers that pay them): before a code goes out by SMS, the
 * number's region must be allowed and its type textable, and the region's hourly budget must not be spent.
 * It looks at the number alone, never at whether an account has it, so its answers reveal no account.
 */
export class SmsGuard {
  readonly #allowed: ReadonlySet<string> | null
  readonly #hourlyBudget: number
  readonly #budget: SmsBudgetStore
  readonly #clientBudget: number
  readonly #clientKey: (ip: string) => string
  readonly #conversion: SmsConversionGuard | undefined
  readonly #onBlock: (block: SmsBlock) => void
  readonly #onCountryAlert: (alert: SmsCountryAlert) => void
  readonly #onError: (error: unknown) => void
  readonly #metrics: Metrics
  readonly #now: () => Date

  constructor (options: SmsGuardOptions) {
    const allowed = options.allowedCountries.map((code) => code.toUpperCase())
    const unknown = allowed.filter((code) => !isSupportedCountry(code))
    if (unknown.length > 0) throw new Error(`SMS_ALLOWED_COUNTRIES: unknown region code ${unknown.join(', ')} (use ISO 3166 codes such as US, FR)`)
    if (!(Number.isInteger(options.hourlyBudget) && options.hourlyBudget > 0)) throw new Error('the SMS hourly budget must be a positive integer')
    this.#allowed = allowed.length > 0 ? new Set(allowed) : null
    this.#hourlyBudget = options.hourlyBudget
    this.#budget = options.budget
    const share = options.clientShare ?? 1
    if (!(share > 0 && share <= 1)) throw new Error('the SMS client share must be above 0 and at most 1')
    this.#clientBudget = share < 1 ? Math.max(1, Math.ceil(options.hourlyBudget * share)) : 0
    if (this.#clientBudget > 0 && options.clientKey === undefined) throw new Error('an SMS client share needs a clientKey')
    this.#clientKey = options.clientKey ?? ((ip) => ip)
    const badPrefix = options.conversion?.allowPrefixes.find((prefix) => !/^\+\d{1,15}$/.test(prefix))
    if (badPrefix !== undefined) throw new Error(`SMS_FRAUD_ALLOW_PREFIXES: ${badPrefix} is not an E.164 prefix such as +4479`)
    this.#conversion = options.conversion
    this.#onBlock = options.onBlock ?? (() => {})
    this.#onCountryAlert = options.onCountryAlert ?? (() => {})
    this.#onError = options.onError ?? (() => {})
    this.#metrics = options.metrics ?? NO_METRICS
    this.#now = options.now ?? (() => new Date())
  }

  /** The number's region when a code may be texted to it; invalid_destination otherwise. Counts nothing. */
  check (e164: string): string {
    const country = phoneCountry(e164)
    if (country === null || (this.#allowed !== null && !this.#allowed.has(country))) {
      throw this.#refuse({ reason: 'country_not_allowed', destination: e164, country }, new AppError('invalid_destination', { detail: 'Codes are not sent by SMS to this country; use email instead.' }))
    }
    const type = phoneNumberType(e164)
    if (type === null || !SMS_NUMBER_TYPES.has(type)) {
      throw this.#refuse({ reason: 'number_type', destination: e164, country }, new AppError('invalid_destination', { detail: 'Codes are only sent by SMS to mobile numbers.' }))
    }
    return country
  }

  /**
   * `check`, then one unit of the region's budget for this clock hour, and of the client's share of it. When
   * either is spent: rate_limited, with Retry-After until the hour ends. Nothing is counted for a refused number.
   */
  async admit (e164: string, clientIp?: string): Promise<SmsAdmission> {
    const country = this.check(e164)
    const now = this.#now().getTime()
    const hour = Math.floor(now / HOUR_MS)
    const untilNextHourMs = (hour + 1) * HOUR_MS - now
    const client = this.#clientBudget > 0 && clientIp !== undefined ? this.#clientKey(clientIp) : undefined
    const share = client === undefined ? undefined : { client, budget: this.#clientBudget }
    const range = this.#judged(e164) ? numberRange(e164) : null
    const conversion = this.#conversion
    // counted per country, so an alert says how many networks asked: keyed like clients, never an address
    const network = clientIp === undefined ? undefined : this.#clientKey(`net:${clientNetwork(clientIp)}`)
    // the budget and the conversion check run side by side: no round trip more than the budget's own
    const [taken, verdict] = await Promise.allSettled([
      this.#budget.take(country, hour, this.#hourlyBudget, untilNextHourMs + COUNTER_SLACK_MS, share),
      range === null || conversion === undefined
        ? null
        : conversion.store.admit(country, range, conversion.policy, now, network)
    ])
    // a unit that cannot be given back (store down) stays spent: the budget errs towards fewer SMS
    const giveBack = async () => { if (taken.status === 'fulfilled' && taken.value) await this.#budget.giveBack(country, hour, client).catch(() => {}) }
    const unsend = async () => {
      if (verdict.status === 'fulfilled' && verdict.value?.outcome === 'admitted') await this.#uncount(country, range!, now)
    }
    if (taken.status === 'rejected' || verdict.status === 'rejected') {
      await Promise.all([giveBack(), unsend()])
      throw taken.status === 'rejected' ? taken.reason : (verdict as PromiseRejectedResult).reason
    }
    if (verdict.value?.outcome === 'blocked') {
      await giveBack()
      const { until, alert, blockedRanges } = verdict.value
      if (alert) this.#alert(country, blockedRanges, now)
      throw this.#refuse({ reason: 'range_conversion', destination: e164, country }, new AppError('destination_blocked', {
        detail: 'Codes are not texted to this number range for now, as too few of those sent were used; use email instead.',
        retryAfter: Math.max(1, Math.ceil((until - now) / 1000))
      }))
    }
    if (!taken.value) {
      await unsend()
      throw this.#refuse({ reason: 'country_budget', destination: e164, country }, new AppError('rate_limited', {
        detail: 'Too many codes were texted to this country this hour; try again later or use email.',
        retryAfter: Math.ceil(untilNextHourMs / 1000),
        limit: this.#hourlyBudget
      }))
    }
    const release = async () => { await Promise.all([giveBack(), unsend()]) }
    return { country, release }
  }

  /**
   * A code texted to this number was used: counts toward its range's conversion. Fire and forget, off the
   * caller's path; a failure goes to onError.
   */
  recordVerified (e164: string): void {
    const conversion = this.#conversion
    const country = phoneCountry(e164)
    if (conversion === undefined || country === null || !this.#judged(e164)) return
    conversion.store.count(country, numberRange(e164), 'verified', conversion.policy, this.#now().getTime()).catch(this.#onError)
  }

  /** The conversion guard is on and the number is not in an exempt range. */
  #judged (e164: string): boolean {
    return this.#conversion !== undefined && !this.#conversion.allowPrefixes.some((prefix) => e164.startsWith(prefix))
  }

  async #uncount (country: string, range: string, now: number): Promise<void> {
    const conversion = this.#conversion!
    await conversion.store.count(country, range, 'unsent', conversion.policy, now).catch(this.#onError)
  }

  /** Tells the operator, off the request's path, with the country's counts of the window. */
  #alert (country: string, blockedRanges: number, now: number): void {
    const conversion = this.#conversion!
    this.#metrics.smsGuardCountryAlert(country)
    conversion.store.stats(country, conversion.policy, now)
      .catch((error: unknown) => {
        this.#onError(error)
        return { sent: null, verified: null, networks: null }
      })
      .then((counts) => { this.#onCountryAlert({ country, blockedRanges, ...counts }) })
      .catch(this.#onError)
  }

  #refuse (block: SmsBlock, error: AppError): AppError {
    this.#metrics.smsGuardBlocked(block.reason)
    try {
      this.#onBlock(block)
    } catch (hookError) {
      this.#onError(hookError)
    }
    return error
  }
}
