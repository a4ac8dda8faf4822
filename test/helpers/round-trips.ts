import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent } from 'mongodb'

interface TimedCommand { name: string, start: number, end: number }

export interface RoundTrips {
  /** Redis commands, in the order they were sent */
  redis: string[]
  /** MongoDB commands, in the order they started */
  mongo: string[]
  /** the longest chain of MongoDB commands each started after the one before it had answered */
  mongoLevels: number
}

// the driver's own traffic, not the request's
const MONITORING = new Set(['hello', 'ismaster', 'isMaster', 'ping', 'endSessions'])
// the security activity log's batched inserts: written after the answers, off every request's path (AuditLog)
const BACKGROUND_COLLECTIONS = new Set(['audit_events'])
// the circuit board's poll of the circuits other processes opened (CircuitBoard.watch): on a timer, not a request's
const isBackgroundRedis = (command: { args?: unknown[] }) => String(command.args?.[0] ?? '').includes('{delivery}:circuit:')

/** Sequential levels: a command is one level deeper than the deepest command that had answered when it started. */
export function sequentialLevels (commands: TimedCommand[]): number {
  const levels: number[] = []
  commands.forEach((command, index) => {
    const before = commands.filter((other, otherIndex) => otherIndex !== index && other.end <= command.start)
    levels[index] = 1 + Math.max(0, ...before.map((other) => levels[commands.indexOf(other)] ?? 0))
  })
  return Math.max(0, ...levels)
}

/**
 * Counts what requests cost: the MongoDB driver's command monitoring (the app connects with monitorCommands)
 * and every command the app's Redis client sends (its sendCommand, wrapped; the commands still run).
 */
export function watchRoundTrips (app: FastifyInstance) {
  const { redis, mongo } = app
  if (!redis || !mongo) throw new Error('round trips are counted against the real stores')
  const client = mongo.getClient()
  // without command events every MongoDB budget would hold with nothing counted
  if (!client.options.monitorCommands) throw new Error('build the app with monitorMongoCommands: true to count its MongoDB round trips')
  const pending = new Map<number, { name: string, start: number }>()
  let mongoCommands: TimedCommand[] = []
  let redisCommands: string[] = []
  const started = (event: CommandStartedEvent) => {
    if (BACKGROUND_COLLECTIONS.has(String(event.command[event.commandName]))) return
    if (!MONITORING.has(event.commandName)) {
      pending.set(event.requestId, { name: event.commandName, start: performance.now() })
    }
  }
  const finished = (event: CommandSucceededEvent | CommandFailedEvent) => {
    const command = pending.get(event.requestId)
    pending.delete(event.requestId)
    if (command) mongoCommands.push({ ...command, end: performance.now() })
  }
  client.on('commandStarted', started)
  client.on('commandSucceeded', finished)
  client.on('commandFailed', finished)
  const sendCommand = redis.sendCommand
  redis.sendCommand = function (this: typeof redis, command: { name: string, args?: unknown[] }, ...rest: unknown[]) {
    if (!isBackgroundRedis(command)) redisCommands.push(command.name)
    return (sendCommand as (...args: unknown[]) => unknown).call(this, command, ...rest)
  } as typeof redis.sendCommand

  return {
    /** The round trips of what `work` does (nothing else may run meanwhile). */
    async measure (work: () => Promise<unknown>): Promise<RoundTrips> {
      mongoCommands = []
      redisCommands = []
      await work()
      const sorted = [...mongoCommands].sort((a, b) => a.start - b.start)
      return {
        redis: redisCommands, mongo: sorted.map((command) => command.name), mongoLevels: sequentialLevels(sorted)
      }
    },
    stop () {
      client.off('commandStarted', started)
      client.off('commandSucceeded', finished)
      client.off('commandFailed', finished)
      redis.sendCommand = sendCommand
    }
  }
}
