import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { phoneCountry } from '../users/identifiers.ts'
import { ConversionWindow, type ConversionCounts } from './conversion-window.ts'
import type { DeliveryOutcome, Metrics, MetricsChannel, RefreshOutcome, StoreErrorKind, StoreName, VerificationOutcome } from './metrics.ts'

export interface PrometheusMetricsOptions {
  /** the window of otp_conversion_ratio: the SMS guard's, SMS_FRAUD_WINDOW_SECONDS */
  conversionWindowSeconds: number
  /** false in the delivery worker: no HTTP routes, no challenges */
  withApiMetrics?: boolean
  now?: () => number
}

/** The label of a destination: the phone number's ISO country, `email` for an email; never the destination. */
const countryOf = (channel: MetricsChannel, destination: string): string =>
  channel === 'email' ? 'email' : (phoneCountry(destination) ?? 'unknown')

/**
 * The Metrics port on prom-client, in a registry of its own (several apps in one test process do not share
 * counters). Names and labels are a contract: dashboards are built on them.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry()
  readonly conversion: ConversionWindow
  readonly #httpDuration: Histogram<'method' | 'route' | 'status_code'>
  readonly #started: Counter<'channel' | 'country'>
  readonly #verifications: Counter<'channel' | 'outcome'>
  readonly #deliveries: Counter<'channel' | 'provider' | 'outcome'>
  readonly #refreshed: Counter<'outcome'>
  readonly #rateLimited: Counter<'route'>
  readonly #storeErrors: Counter<'store' | 'kind'>
  readonly #guardBlocks: Counter<'reason'>
  readonly #countryAlerts: Counter<'country'>

  constructor (options: PrometheusMetricsOptions) {
    const registers = [this.registry]
    this.conversion = new ConversionWindow(options.conversionWindowSeconds, options.now)
    collectDefaultMetrics({ register: this.registry })
    this.#httpDuration = new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP requests by method, route pattern and status code', labelNames: ['method', 'route', 'status_code'], registers })
    this.#started = new Counter({ name: 'otp_challenges_started_total', help: 'Challenges started, by channel and country (email for email)', labelNames: ['channel', 'country'], registers })
    this.#verifications = new Counter({ name: 'otp_verifications_total', help: 'Code verifications by channel and outcome', labelNames: ['channel', 'outcome'], registers })
    this.#deliveries = new Counter({ name: 'otp_deliveries_total', help: 'Provider attempts to deliver a code, by channel, provider and outcome', labelNames: ['channel', 'provider', 'outcome'], registers })
    this.#refreshed = new Counter({ name: 'sessions_refreshed_total', help: 'Refresh-token presentations by outcome', labelNames: ['outcome'], registers })
    this.#rateLimited = new Counter({ name: 'auth_rate_limited_total', help: 'Requests refused by a rate limit (429), by route pattern', labelNames: ['route'], registers })
    this.#storeErrors = new Counter({ name: 'store_errors_total', help: 'Redis and MongoDB errors by store and kind', labelNames: ['store', 'kind'], registers })
    this.#guardBlocks = new Counter({ name: 'sms_guard_blocks_total', help: 'SMS destinations refused by the SMS-pumping guard, by reason', labelNames: ['reason'], registers })
    this.#countryAlerts = new Counter({
      name: 'sms_guard_country_alerts_total', help: 'Countries with many number ranges blocked at once by the SMS-pumping guard (page on it)', labelNames: ['country'], registers
    })
    if (options.withApiMetrics !== false) this.#conversionGauge(registers)
  }

  get contentType (): string {
    return this.registry.contentType
  }

  /** The Prometheus text of this process's registry. */
  render (): Promise<string> {
    return this.registry.metrics()
  }

  /** One answered HTTP request; `route` is the route pattern (or a fixed word for no route), never the URL. */
  observeRequest (method: string, route: string, statusCode: number, seconds: number): void {
    this.#httpDuration.observe({ method, route, status_code: statusCode }, seconds)
  }

  challengeStarted (channel: MetricsChannel, destination: string): void {
    const country = countryOf(channel, destination)
    this.#started.inc({ channel, country })
    this.conversion.record(channel, country, 'sent')
  }

  codeResent (channel: MetricsChannel, destination: string): void {
    this.conversion.record(channel, countryOf(channel, destination), 'sent')
  }

  verification (channel: MetricsChannel | null, outcome: VerificationOutcome, destination?: string): void {
    this.#verifications.inc({ channel: channel ?? 'unknown', outcome })
    if (outcome === 'success' && channel !== null && destination !== undefined) {
      this.conversion.record(channel, countryOf(channel, destination), 'verified')
    }
  }

  delivery (channel: MetricsChannel, provider: string, outcome: DeliveryOutcome): void {
    this.#deliveries.inc({ channel, provider, outcome })
  }

  sessionRefreshed (outcome: RefreshOutcome): void {
    this.#refreshed.inc({ outcome })
  }

  rateLimited (route: string): void {
    this.#rateLimited.inc({ route })
  }

  storeError (store: StoreName, kind: StoreErrorKind): void {
    this.#storeErrors.inc({ store, kind })
  }

  smsGuardBlocked (reason: string): void {
    this.#guardBlocks.inc({ reason })
  }

  smsGuardCountryAlert (country: string): void {
    this.#countryAlerts.inc({ country })
  }

  /**
   * Set at each scrape from the window. With node:cluster workers the primary computes it from every worker's
   * counts (`omit` here), since an average of ratios is not the ratio of the sums.
   */
  #conversionGauge (registers: Registry[]): void {
    const conversion = this.conversion
    // eslint-disable-next-line no-new
    new Gauge({
      ...CONVERSION_RATIO_GAUGE,
      registers,
      aggregator: 'omit',
      collect () { setConversionRatios(this, conversion.counts()) }
    })
  }
}

/** otp_conversion_ratio, defined here and by the node:cluster primary, which computes it from summed counts */
export const CONVERSION_RATIO_GAUGE = {
  name: 'otp_conversion_ratio',
  help: 'Successful verifications ÷ codes sent over SMS_FRAUD_WINDOW_SECONDS, by channel and country',
  labelNames: ['channel', 'country'] as const
}

/** The gauge's series, one per channel and country that sent a code in the window. */
export function setConversionRatios (gauge: Gauge<'channel' | 'country'>, counts: ConversionCounts[]): void {
  gauge.reset()
  for (const { channel, country, sent, verified } of counts) {
    if (sent > 0) gauge.set({ channel, country }, verified / sent)
  }
}
