import type { Config } from '../config.ts'

/** 127.0.0.0/8, ::1 and localhost: an interface no other host reaches */
export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)

/**
 * Every rule production holds a config to, in one place: what only makes sense on a laptop (in-process stores,
 * keys made up at start, the dev outbox) and the guards a public deployment needs. loadConfig refuses to start
 * on the first problem; the README's production checklist is tested against this list.
 */
export function productionProblems (config: Config): string[] {
  const problems: string[] = []
  const need = (name: keyof Config, why: string) => {
    if (config[name] === undefined) problems.push(`${name} is required in production (${why})`)
  }
  const redis = config.REDIS_URL ?? [...config.REDIS_CLUSTER_NODES, ...config.REDIS_SENTINELS][0]
  if (redis === undefined) {
    problems.push('REDIS_URL is required in production, or REDIS_SENTINELS or REDIS_CLUSTER_NODES (one-time codes live in Redis)')
  }
  need('MONGODB_URL', 'users and sessions live in MongoDB')
  need('JWT_KEYS', 'tokens must survive restarts')
  need('OTP_PEPPER', 'code hashes must survive restarts')
  need('SENDGRID_API_KEY', 'email delivery')
  need('EMAIL_FROM', 'email delivery')
  need('VONAGE_API_KEY', 'SMS delivery')
  need('VONAGE_API_SECRET', 'SMS delivery')
  need('SMS_FROM', 'SMS delivery')
  if (config.TOTP_ENCRYPTION_KEYS.length === 0) {
    problems.push('TOTP_ENCRYPTION_KEYS is required in production (authenticator secrets must survive restarts)')
  }
  if (config.SMS_ALLOWED_COUNTRIES.length === 0) {
    problems.push('SMS_ALLOWED_COUNTRIES is required in production (SMS-pumping guard)')
  }
  if (config.SESSION_COOKIE === 'on' && config.CORS_ORIGINS.includes('*')) {
    problems.push('CORS_ORIGINS=* is refused in production with SESSION_COOKIE=on (name the origins that may use the session cookie)')
  }
  if (config.METRICS_PORT !== undefined && !isLoopbackHost(config.METRICS_HOST) && config.METRICS_TOKEN === undefined) {
    problems.push('METRICS_TOKEN is required in production when METRICS_HOST is not a loopback address (GET /metrics would be open to the network)')
  }
  if (config.DEV_OUTBOX) problems.push('DEV_OUTBOX=true is refused in production (codes would be readable over HTTP)')
  return problems
}
