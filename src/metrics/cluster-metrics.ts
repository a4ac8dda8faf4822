import cluster from 'node:cluster'
import { AggregatorRegistry, Gauge, Registry } from 'prom-client'
import { sumConversionCounts, type ConversionCounts } from './conversion-window.ts'
import { CONVERSION_RATIO_GAUGE, setConversionRatios, type PrometheusMetrics } from './prometheus-metrics.ts'

const CONVERSION_REQUEST = 'otp-gate:conversion-counts?'
const CONVERSION_RESPONSE = 'otp-gate:conversion-counts'
const TIMEOUT_MS = 5000

interface ConversionMessage { type?: unknown, requestId?: unknown, counts?: ConversionCounts[] }

/**
 * In a node:cluster worker: the primary scrapes this process's registry through prom-client's
 * AggregatorRegistry, and its conversion counts through the message below.
 */
export function answerPrimaryScrapes (metrics: PrometheusMetrics): void {
  // constructing one installs prom-client's listener for the primary's requests
  // eslint-disable-next-line no-new
  new AggregatorRegistry()
  AggregatorRegistry.setRegistries([metrics.registry])
  process.on('message', (message: ConversionMessage) => {
    if (message?.type !== CONVERSION_REQUEST) return
    process.send?.({ type: CONVERSION_RESPONSE, requestId: message.requestId, counts: metrics.conversion.counts() })
  })
}

/**
 * In the node:cluster primary: one scrape for the whole instance. Counters and histograms are the sums over
 * the workers (AggregatorRegistry); otp_conversion_ratio is computed from the summed counts, not averaged.
 */
export class ClusterMetrics {
  readonly #aggregator = new AggregatorRegistry()
  readonly #pending = new Map<number, {
    counts: ConversionCounts[][], waiting: number, done: (counts: ConversionCounts[][]) => void
  }>()

  #nextId = 0

  constructor () {
    cluster.on('message', (_worker, message: ConversionMessage) => {
      if (message?.type !== CONVERSION_RESPONSE || typeof message.requestId !== 'number') return
      const request = this.#pending.get(message.requestId)
      if (request === undefined) return
      request.counts.push(message.counts ?? [])
      if (--request.waiting === 0) request.done(request.counts)
    })
  }

  get contentType (): string {
    return this.#aggregator.contentType
  }

  async render (): Promise<string> {
    const [aggregated, counts] = await Promise.all([this.#aggregator.clusterMetrics(), this.#conversionCounts()])
    const ratios = new Registry()
    setConversionRatios(new Gauge({ ...CONVERSION_RATIO_GAUGE, registers: [ratios] }), sumConversionCounts(counts))
    return aggregated + await ratios.metrics()
  }

  #conversionCounts (): Promise<ConversionCounts[][]> {
    const workers = Object.values(cluster.workers ?? {}).filter((worker) => worker?.isConnected())
    if (workers.length === 0) return Promise.resolve([])
    const requestId = this.#nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId)
        reject(new Error('a cluster worker did not send its conversion counts in time'))
      }, TIMEOUT_MS)
      this.#pending.set(requestId, {
        counts: [],
        waiting: workers.length,
        done: (counts) => {
          clearTimeout(timer)
          this.#pending.delete(requestId)
          resolve(counts)
        }
      })
      for (const worker of workers) worker?.send({ type: CONVERSION_REQUEST, requestId })
    })
  }
}
