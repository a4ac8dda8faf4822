import diagnosticsChannel from 'node:diagnostics_channel'
import type { Span, Tracer } from '@opentelemetry/api'
import { scriptNameOf } from '../stores/redis-lua/define-scripts.ts'
import { endStoreSpan, startStoreSpan } from './store-spans.ts'

/** What ioredis publishes on `ioredis:command` (its args are not read: a script's ARGV holds destinations). */
interface CommandContext { command: string, args?: string[], error?: unknown }

/**
 * A span per Redis command, from ioredis's `ioredis:command` tracing channel: named after the command, and
 * after the script for an EVAL or EVALSHA of ours (`EVALSHA otpVerifyChallenge`); no arguments, no address.
 * Returns the unsubscribe.
 */
export function traceRedisCommands (tracer: Tracer): () => void {
  const channel = diagnosticsChannel.tracingChannel<object, CommandContext>('ioredis:command')
  const spans = new WeakMap<object, Span>()
  const handlers = {
    start (message: CommandContext) {
      const command = message.command.toUpperCase()
      const script = command === 'EVALSHA' || command === 'EVAL' ? scriptNameOf(String(message.args?.[0] ?? '')) : undefined
      const span = startStoreSpan(tracer, script === undefined ? command : `${command} ${script}`, {
        'db.system.name': 'redis',
        'db.operation.name': command,
        ...(script === undefined ? {} : { 'otp_gate.redis.script': script })
      })
      if (span !== null) spans.set(message, span)
    },
    end () {},
    asyncStart () {},
    asyncEnd (message: CommandContext) {
      const span = spans.get(message)
      if (span === undefined) return
      spans.delete(message)
      endStoreSpan(span, message.error)
    },
    error () {}
  }
  channel.subscribe(handlers)
  return () => channel.unsubscribe(handlers)
}
