import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'

export interface ScriptDefinition { numberOfKeys: number, lua: string }

/** The commands a set of scripts adds to a client, each taking its KEYS then its ARGV. */
export type ScriptCommands<Names extends string, Result = unknown> = Record<Names, (...keysAndArgs: Array<string | number>) => Promise<Result>>

/**
 * Registers each script once per client with `defineCommand` (EVALSHA, with a fallback to EVAL after a script
 * flush) and returns the client typed with those commands. Several stores may share one client.
 */
// the names of our scripts by SHA-1 (what EVALSHA sends), so a trace names the script, not a hash
const scriptNames = new Map<string, string>()

/** The name a script of ours was defined with, from the SHA-1 an EVALSHA sends; undefined for anyone else's. */
export const scriptNameOf = (sha: string): string | undefined => scriptNames.get(sha)

export function withScripts<Names extends string, Result = unknown> (client: Redis | Cluster, scripts: Record<Names, ScriptDefinition>): ScriptCommands<Names, Result> & (Redis | Cluster) {
  for (const [name, definition] of Object.entries<ScriptDefinition>(scripts)) {
    if (!(name in client)) client.defineCommand(name, definition)
    scriptNames.set(createHash('sha1').update(definition.lua).digest('hex'), name)
  }
  return client as ScriptCommands<Names, Result> & (Redis | Cluster)
}
