import { context, trace, SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api'

/** A client span for a store command, only inside a traced operation: background polling makes no traces. */
export function startStoreSpan (
  tracer: Tracer, name: string, attributes: Record<string, string | number>
): Span | null {
  const parent = context.active()
  if (trace.getSpan(parent) === undefined) return null
  return tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent)
}

export function endStoreSpan (span: Span, failure?: unknown): void {
  // the error's message is not recorded: store errors quote their arguments
  if (failure !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: failure instanceof Error ? failure.name : 'error' })
  span.end()
}
