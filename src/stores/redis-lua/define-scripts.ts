import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'

export interface ScriptDefinition { numberOfKeys: number, lua: string }

/** The commands a set of scripts adds to a client, each taking its KEYS then its ARGV. */
export type ScriptCommands<Names extends string, Result = unknown> =
  Record<Names, (...keysAndArgs: Array<string | number>) => Promise<Result>>

/**
 * Registers each script once per client with `defineCommand` (EVALSHA, with a fallback to EVAL after a script
 * flush) and returns the client typed with those commands. Several stores may share one client.
 */
// the names of our scripts by SHA-1 (what EVALSHA sends) and by source (what ioredis's first EVAL on a
// connection sends), so a trace names the script
const scriptNames = new Map<string, string>()

/** The name a script of ours was defined with, from an EVALSHA's SHA-1 or an EVAL's source; undefined for others'. */
export const scriptNameOf = (shaOrSource: string): string | undefined => scriptNames.get(shaOrSource)

export function withScripts<Names extends string, Result = unknown> (
  client: Redis | Cluster, scripts: Record<Names, ScriptDefinition>
): ScriptCommands<Names, Result> & (Redis | Cluster) {
  for (const [name, definition] of Object.entries<ScriptDefinition>(scripts)) {
    if (!(name in client)) client.defineCommand(name, definition)
    scriptNames.set(createHash('sha1').update(definition.lua).digest('hex'), name).set(definition.lua, name)
  }
  return client as ScriptCommands<Names, Result> & (Redis | Cluster)
}
