import type { Span, Tracer } from '@opentelemetry/api'
import type { mongo } from 'mongoose'
import { endStoreSpan, startStoreSpan } from './store-spans.ts'

/**
 * A span per MongoDB command, from the driver's command monitoring (on whenever tracing is, src/app.ts): named
 * `<command> <collection>`, with neither the filter nor the documents. Returns the unsubscribe.
 */
export function traceMongoCommands (client: mongo.MongoClient, tracer: Tracer): () => void {
  const spans = new Map<string, Span>()
  const key = (event: { requestId: number, connectionId?: string | number }) => `${event.connectionId ?? ''}:${event.requestId}`
  const started = (event: mongo.CommandStartedEvent) => {
    const target = event.command[event.commandName] as unknown
    const collection = typeof target === 'string' ? target : undefined
    const span = startStoreSpan(tracer, collection === undefined ? event.commandName : `${event.commandName} ${collection}`, {
      'db.system.name': 'mongodb',
      'db.operation.name': event.commandName,
      'db.namespace': event.databaseName,
      ...(collection === undefined ? {} : { 'db.collection.name': collection })
    })
    if (span !== null) spans.set(key(event), span)
  }
  const finished = (failed: boolean) => (event: mongo.CommandSucceededEvent | mongo.CommandFailedEvent) => {
    const span = spans.get(key(event))
    if (span === undefined) return
    spans.delete(key(event))
    endStoreSpan(span, failed ? (event as mongo.CommandFailedEvent).failure : undefined)
  }
  const succeeded = finished(false)
  const failed = finished(true)
  client.on('commandStarted', started)
  client.on('commandSucceeded', succeeded)
  client.on('commandFailed', failed)
  return () => {
    client.off('commandStarted', started)
    client.off('commandSucceeded', succeeded)
    client.off('commandFailed', failed)
  }
}
