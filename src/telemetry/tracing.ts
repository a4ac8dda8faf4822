import { context, propagation, trace, type Tracer } from '@opentelemetry/api'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import type { Config } from '../config.ts'
import { traceRedisCommands } from './redis-spans.ts'

export interface Tracing {
  provider: NodeTracerProvider
  tracer: Tracer
  /** sends what is buffered and unregisters the provider */
  shutdown: () => Promise<void>
}

/**
 * OpenTelemetry, when OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test hands an exporter): a tracer provider
 * registered for the process (the async-local context the spans nest by), exporting OTLP over HTTP, and spans
 * for the Redis commands of ioredis (its diagnostics channel). The route spans come from @fastify/otel
 * (plugins/tracing.ts), MongoDB's from the driver's command events (mongo-spans.ts), the provider calls from
 * delivery. Null when traces are off: nothing is registered, and spans cost nothing.
 */
export function startTracing (config: Config, exporter?: SpanExporter): Tracing | null {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT
  if (exporter === undefined && endpoint === undefined) return null
  const processor = exporter === undefined
    ? new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint!.replace(/\/+$/, '')}/v1/traces` }))
    : new SimpleSpanProcessor(exporter)
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.OTEL_SERVICE_NAME }),
    spanProcessors: [processor]
  })
  provider.register()
  const tracer = provider.getTracer('otp-gate')
  const stopRedis = traceRedisCommands(tracer)
  return {
    provider,
    tracer,
    shutdown: async () => {
      stopRedis()
      await provider.shutdown()
      trace.disable()
      context.disable()
      propagation.disable()
    }
  }
}
