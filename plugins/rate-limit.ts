import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { BlockList, isIPv6 } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { AppError } from '../src/errors.ts'

/** RATE_LIMIT_ALLOWLIST entries (addresses or CIDRs) as one matcher. */
export function allowListOf (entries: string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/')
    const family = isIPv6(address) ? 'ipv6' : 'ipv4'
    if (prefix === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(prefix), family)
  }
  return list
}

/** Route config for a per-client-IP budget, e.g. `config: { rateLimit: perMinute(10) }`. */
export const perMinute = (max: number) => ({ max, timeWindow: 60_000 })

/**
 * Per-IP budgets on the routes that ask for one, in Redis when configured so every instance shares them,
 * in process otherwise. Fails closed: when Redis does not answer, the request fails with 503.
 */
async function rateLimitPlugin (app: FastifyInstance, { config, keyPrefix }: { config: Config, keyPrefix: string }) {
  const allowList = allowListOf(config.RATE_LIMIT_ALLOWLIST)
  const family = (ip: string) => isIPv6(ip) ? 'ipv6' : 'ipv4'
  await app.register(rateLimit, {
    global: false,
    ...(app.redis ? { redis: app.redis } : {}),
    nameSpace: `${keyPrefix}rl:`,
    skipOnError: false,
    enableDraftSpec: true,
    keyGenerator: (request) => request.ip,
    allowList: (request) => allowList.check(request.ip, family(request.ip)),
    errorResponseBuilder: (_request, context) => new AppError('rate_limited', {
      detail: `Too many requests from this client; retry in ${Math.ceil(context.ttl / 1000)} s.`,
      retryAfter: Math.ceil(context.ttl / 1000)
    })
  })
}

export default fp(rateLimitPlugin, { name: 'rate-limit', fastify: '5.x', dependencies: ['redis'] })
