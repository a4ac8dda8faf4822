import { SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api'

const tracer = () => trace.getTracer('otp-gate')

/**
 * Runs `work` in a client span (a call to another service): a child of the active span, ended when `work`
 * settles, marked as an error when it throws (the error's message is not recorded: providers' errors quote the
 * request). Without a registered tracer provider (OTEL_EXPORTER_OTLP_ENDPOINT unset) the span does nothing.
 */
export function inClientSpan<T> (name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await work()
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' })
      throw error
    } finally {
      span.end()
    }
  })
}
