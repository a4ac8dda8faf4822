import { isSupportedCountry } from 'libphonenumber-js/max'
import { AppError } from '../errors.ts'
import { phoneCountry, phoneNumberType, type PhoneNumberType } from '../users/identifiers.ts'
import type { SmsBudgetStore } from './sms-budget.ts'
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

export interface SmsGuardOptions {
  /** ISO 3166 region codes as libphonenumber assigns them (GG, JE and IM are not GB); empty = every region */
  allowedCountries: readonly string[]
  /** SMS per destination region per clock hour, across every instance sharing the budget store */
  hourlyBudget: number
  budget: SmsBudgetStore
  now?: () => Date
  /** counts each refusal by reason (sms_guard_blocks_total) */
  metrics?: Metrics
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
  readonly #now: () => Date
  readonly #metrics: Metrics

  constructor (options: SmsGuardOptions) {
    const allowed = options.allowedCountries.map((code) => code.toUpperCase())
    const unknown = allowed.filter((code) => !isSupportedCountry(code))
    if (unknown.length > 0) throw new Error(`SMS_ALLOWED_COUNTRIES: unknown region code ${unknown.join(', ')} (use ISO 3166 codes such as US, FR)`)
    if (!(Number.isInteger(options.hourlyBudget) && options.hourlyBudget > 0)) throw new Error('the SMS hourly budget must be a positive integer')
    this.#allowed = allowed.length > 0 ? new Set(allowed) : null
    this.#hourlyBudget = options.hourlyBudget
    this.#budget = options.budget
    this.#now = options.now ?? (() => new Date())
    this.#metrics = options.metrics ?? NO_METRICS
  }

  /** The number's region when a code may be texted to it; invalid_destination otherwise. Counts nothing. */
  check (e164: string): string {
    const country = phoneCountry(e164)
    if (country === null || (this.#allowed !== null && !this.#allowed.has(country))) {
      this.#metrics.smsGuardBlocked('country_not_allowed')
      throw new AppError('invalid_destination', { detail: 'Codes are not sent by SMS to this country; use email instead.' })
    }
    const type = phoneNumberType(e164)
    if (type === null || !SMS_NUMBER_TYPES.has(type)) {
      this.#metrics.smsGuardBlocked('number_type')
      throw new AppError('invalid_destination', { detail: 'Codes are only sent by SMS to mobile numbers.' })
    }
    return country
  }

  /**
   * `check`, then one unit of the region's budget for this clock hour. When it is spent: rate_limited, with
   * Retry-After until the hour ends. Nothing is counted for a refused number.
   */
  async admit (e164: string): Promise<SmsAdmission> {
    const country = this.check(e164)
    const now = this.#now().getTime()
    const hour = Math.floor(now / HOUR_MS)
    const untilNextHourMs = (hour + 1) * HOUR_MS - now
    if (!await this.#budget.take(country, hour, this.#hourlyBudget, untilNextHourMs + COUNTER_SLACK_MS)) {
      this.#metrics.smsGuardBlocked('country_budget')
      throw new AppError('rate_limited', {
        detail: 'Too many codes were texted to this country this hour; try again later or use email.',
        retryAfter: Math.ceil(untilNextHourMs / 1000),
        limit: this.#hourlyBudget
      })
    }
    // a unit that cannot be given back (store down) stays spent: the budget errs towards fewer SMS
    const release = async () => { await this.#budget.giveBack(country, hour).catch(() => {}) }
    return { country, release }
  }
}
