import { Type, type StaticDecode, type TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { productionProblems } from './config/production-problems.ts'
import { CONFIG_GROUPS } from './config/settings.ts'
import { originEntryProblem } from './config/browser-origins.ts'
import { adminKeyEntryProblem } from './admin/admin-keys.ts'
import { webAuthnProblems } from './config/webauthn-origins.ts'

const {
  server, stores, otp, tokens, browser, totp, passkeys, messages, delivery, limits, observability, audit, admin,
  loadTest, testing
} = CONFIG_GROUPS

/**
 * Every setting the service reads, in one schema: validated at start-up, documented in .env.example and the
 * README (both generated from it), and the `Config` type is what this schema decodes to.
 */
export const ConfigSchema = Type.Object({
  ...server,
  ...stores,
  ...otp,
  ...tokens,
  ...browser,
  ...totp,
  ...passkeys,
  ...messages,
  ...delivery,
  ...limits,
  ...observability,
  ...audit,
  ...admin,
  ...loadTest,
  ...testing
})

export type Config = StaticDecode<typeof ConfigSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Settings that are each valid but do not go together. */
function inconsistencies (config: Config): string[] {
  const problems: string[] = []
  if (config.AUDIT_WEBHOOK_URL !== undefined && config.AUDIT_WEBHOOK_SECRET === undefined) {
    problems.push('AUDIT_WEBHOOK_SECRET is required with AUDIT_WEBHOOK_URL (the receiver checks X-OtpGate-Signature with it)')
  }
  if (config.METRICS_PORT !== undefined && config.METRICS_PORT !== 0 && config.METRICS_PORT === config.PORT) {
    problems.push('METRICS_PORT: must differ from PORT (metrics are never served on the API port)')
  }
  problems.push(...config.CORS_ORIGINS.flatMap((entry) => originEntryProblem(entry) ?? []))
  problems.push(...config.ADMIN_API_KEYS.flatMap((entry, index) => adminKeyEntryProblem(entry, index) ?? []))
  problems.push(...webAuthnProblems(config))
  return problems
}

function describe (
  error: { instancePath: string, message: string, params: Record<string, unknown> }, schema: TSchema
): string {
  const name = error.instancePath.slice(1) || String((error.params.requiredProperties as string[] | undefined)?.[0] ?? 'config')
  const property = (schema as { properties: Record<string, TSchema & { description?: string }> }).properties[name]
  const hint = property?.description ? ` (${property.description})` : ''
  return `${name}: ${error.message}${hint}`
}

/** Reads, converts and validates the environment; throws ConfigError with one line naming the variable. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const known = Object.keys(ConfigSchema.properties)
  // an empty variable means unset, so `.env.example` can be copied as it is
  const input = Object.fromEntries(known.filter((key) => env[key] !== undefined && env[key] !== '').map((key) => [key, env[key]]))
  const value = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, input))
  const [first] = Value.Errors(ConfigSchema, value)
  if (first) throw new ConfigError(`Invalid configuration: ${describe(first as never, ConfigSchema)}`)
  const config = Value.Decode(ConfigSchema, value)
  const [inconsistency] = inconsistencies(config)
  if (inconsistency) throw new ConfigError(`Invalid configuration: ${inconsistency}`)
  if (config.NODE_ENV === 'production') {
    const [problem] = productionProblems(config)
    if (problem) throw new ConfigError(`Invalid configuration: ${problem}`)
  }
  return config
}

/**
 * Whether the API process sends queued jobs itself (DELIVERY_WORKER). Not in production unless asked: a process
 * that serves requests and sends too is busier after a real account's code than after a decoy's, which the
 * requests that follow could time; there `npm run worker` processes send.
 */
export const sendsInProcess = (config: Config): boolean => config.DELIVERY_WORKER ?? config.NODE_ENV !== 'production'

/** True when no external store is configured: everything runs in-process. */
export const isEmbedded = (config: Config): boolean =>
  config.REDIS_URL === undefined && config.REDIS_CLUSTER_NODES.length === 0 && config.MONGODB_URL === undefined

/**
 * The process's config, for an entry point: the environment over an optional `.env` beside the process; a bad
 * value ends the process with one line, `<name>: <what is wrong>`.
 */
export function readProcessConfig (name: string): Config {
  try {
    // an optional .env beside the process; real environment variables win
    try { process.loadEnvFile() } catch (error) { if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error }
    return loadConfig(process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${name}: ${error.message}\n`)
    process.exit(1)
  }
}
