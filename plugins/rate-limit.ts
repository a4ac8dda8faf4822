import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { BlockList, isIP } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../src/config.ts'
import { AppError } from '../src/errors.ts'

const familyOf = (address: string) => isIP(address) === 6 ? 'ipv6' : 'ipv4'

/** RATE_LIMIT_ALLOWLIST entries (addresses or CIDRs) as one matcher; IPv4 entries also match IPv4-mapped IPv6. */
export function allowListOf (entries: string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/')
    const bits = Number(prefix)
    const valid = isIP(address) !== 0 && extra === undefined &&
      (prefix === undefined || (/^\d+$/.test(prefix) && bits <= (isIP(address) === 6 ? 128 : 32)))
    if (!valid) throw new Error(`RATE_LIMIT_ALLOWLIST: "${entry}" is not an IP address or CIDR`)
    if (prefix === undefined) list.addAddress(address, familyOf(address))
    else list.addSubnet(address, bits, familyOf(address))
  }
  return list
}

/** Route config for a per-client-IP budget, e.g. `config: { rateLimit: perMinute(10) }`. */
export const perMinute = (max: number) => ({ max, timeWindow: 60_000 })

/** The route configs for the budgets Config sets, by kind of route: `config: verifyLimit`. */
export const routeLimits = (config: Config) => ({
  startLimit: { rateLimit: perMinute(config.RATE_LIMIT_START_PER_MINUTE) },
  verifyLimit: { rateLimit: perMinute(config.RATE_LIMIT_VERIFY_PER_MINUTE) },
  refreshLimit: { rateLimit: perMinute(config.RATE_LIMIT_REFRESH_PER_MINUTE) },
  defaultLimit: { rateLimit: perMinute(config.RATE_LIMIT_DEFAULT_PER_MINUTE) }
})

/**
 * Per-client budgets on the routes that ask for one, in Redis when configured so every instance shares them,
 * in process otherwise. The client is `request.ip` (so TRUST_PROXY decides whether X-Forwarded-For counts),
 * grouped the library's way: an IPv6 client is its /64, since one subscriber gets a whole /64 to rotate through,
 * and an IPv4-mapped address is its IPv4 one. Fails closed: when Redis does not answer, the request gets a 503.
 */
async function rateLimitPlugin (app: FastifyInstance, { config, keyPrefix }: { config: Config, keyPrefix: string }) {
  const allowList = allowListOf(config.RATE_LIMIT_ALLOWLIST)
  // a client that hung up before its request was read has no address: it cannot be limited, so it is not served
  // a callback hook: on every request, an async one would cost a promise for nothing
  app.addHook('onRequest', (request, _reply, done) => {
    done(request.ip === undefined ? new AppError('bad_request', { detail: 'The client connection is gone.' }) : undefined)
  })
  await app.register(rateLimit, {
    global: false,
    ...(app.redis ? { redis: app.redis } : {}),
    nameSpace: `${keyPrefix}rl:`,
    skipOnError: false,
    enableDraftSpec: true,
    ipv6Subnet: 64,
    allowList: (request) => allowList.check(request.ip, familyOf(request.ip)),
    errorResponseBuilder: (_request, context) => new AppError('rate_limited', {
      detail: `Too many requests from this client; retry in ${Math.ceil(context.ttl / 1000)} s.`,
      retryAfter: Math.ceil(context.ttl / 1000),
      limit: context.max
    })
  })
}

export default fp(rateLimitPlugin, { name: 'rate-limit', fastify: '5.x', dependencies: ['redis'] })
