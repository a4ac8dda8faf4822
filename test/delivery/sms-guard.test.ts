import t from 'tap'
import { clientNetwork, SmsGuard } from '../../src/delivery/sms-guard.ts'
import { MemorySmsBudget } from '../../src/delivery/memory-sms-budget.ts'
import { isAppError } from '../../src/errors.ts'

const US_MOBILE = '+12015550123' // FIXED_LINE_OR_MOBILE, as every NANP number
const FR_MOBILE = '+33612345678'

function guardAt (iso: string, options: { allowedCountries?: string[], hourlyBudget?: number } = {}) {
  const clock = { now: new Date(iso) }
  const guard = new SmsGuard({
    allowedCountries: options.allowedCountries ?? [],
    hourlyBudget: options.hourlyBudget ?? 2,
    budget: new MemorySmsBudget(() => clock.now.getTime()),
    now: () => clock.now
  })
  return { guard, clock }
}

async function refusal (promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    if (isAppError(error)) return { code: error.code, retryAfter: error.retryAfter, limit: error.limit }
    throw error
  }
  return null
}

t.test('number types: mobile ones pass, premium-rate, shared-cost, fixed line and the like do not', async (t) => {
  const { guard } = guardAt('2026-03-01T10:00:00Z')
  const allowed = { '+12015550123': 'US', '+33612345678': 'FR', '+8613800138000': 'CN', '+447911123456': 'GG' }
  for (const [number, country] of Object.entries(allowed)) t.equal(guard.check(number), country, `${number} is textable`)
  const refused = {
    premiumRate: '+19005550123',
    sharedCost: '+33810123456',
    tollFree: '+18005550100',
    fixedLine: '+33140000000',
    personalNumber: '+447012345678',
    noRegion: '+15555550100',
    nonGeographic: '+882351234567'
  }
  for (const [kind, number] of Object.entries(refused)) {
    t.throws(() => guard.check(number), { code: 'invalid_destination', status: 422 }, `${kind} is refused`)
  }
})

t.test('the allow-list is of regions as libphonenumber assigns them; empty allows every one', async (t) => {
  const { guard } = guardAt('2026-03-01T10:00:00Z', { allowedCountries: ['us', 'FR'] })
  t.equal(guard.check(US_MOBILE), 'US', 'lower-case configuration is read as upper-case')
  t.equal(guard.check(FR_MOBILE), 'FR')
  t.throws(() => guard.check('+4915123456789'), { code: 'invalid_destination' }, 'DE is not listed')
  t.throws(() => guard.check('+12462345678'), { code: 'invalid_destination' }, 'a Barbados mobile shares +1 with the US but is its own region')
  t.throws(() => new SmsGuard({ allowedCountries: ['XX'], hourlyBudget: 1, budget: new MemorySmsBudget() }), /SMS_ALLOWED_COUNTRIES: unknown region code XX/)
  t.throws(() => new SmsGuard({ allowedCountries: [], hourlyBudget: 0, budget: new MemorySmsBudget() }), /positive integer/)
})

t.test('a refused number takes nothing from the budget', async (t) => {
  const { guard } = guardAt('2026-03-01T10:00:00Z', { hourlyBudget: 1 })
  t.match(await refusal(guard.admit('+19005550123')), { code: 'invalid_destination' })
  t.equal((await guard.admit(US_MOBILE)).country, 'US', 'the one unit is still there')
})

t.test('the hourly budget per region: rate_limited until the hour ends, then a new hour', async (t) => {
  const { guard, clock } = guardAt('2026-03-01T10:59:20.500Z', { hourlyBudget: 2 })
  await guard.admit(US_MOBILE)
  await guard.admit('+12015550124')
  t.same(await refusal(guard.admit('+12015550125')), { code: 'rate_limited', retryAfter: 40, limit: 2 }, '39.5 s to the hour, rounded up')
  t.equal((await guard.admit(FR_MOBILE)).country, 'FR', 'another region has its own budget')
  clock.now = new Date('2026-03-01T11:00:00Z')
  t.equal((await guard.admit(US_MOBILE)).country, 'US', 'the next hour starts afresh')
})

t.test('release gives the unit back, once', async (t) => {
  const { guard } = guardAt('2026-03-01T10:00:00Z', { hourlyBudget: 1 })
  const admission = await guard.admit(US_MOBILE)
  t.match(await refusal(guard.admit(US_MOBILE)), { code: 'rate_limited' })
  await admission.release()
  await guard.admit(US_MOBILE)
  t.match(await refusal(guard.admit(US_MOBILE)), { code: 'rate_limited' }, 'the released unit was taken again')
})

t.test('a release that fails leaves the unit spent instead of failing the request', async (t) => {
  const guard = new SmsGuard({
    allowedCountries: [],
    hourlyBudget: 1,
    budget: { take: async () => true, giveBack: async () => { throw new Error('Connection is closed.') } }
  })
  const admission = await guard.admit(US_MOBILE)
  await t.resolves(admission.release())
})

t.test('a country alert is told even when the country\'s counts cannot be read', async (t) => {
  const alerts: unknown[] = []
  const errors: unknown[] = []
  const window = { windowMs: 3_600_000, minSends: 1, minConversion: 0.2, blockMs: 3_600_000 }
  const policy = { ...window, countryAlertRanges: 1, historyMs: 0, historyMinVerified: 1 }
  const guard = new SmsGuard({
    allowedCountries: [],
    hourlyBudget: 10,
    budget: new MemorySmsBudget(),
    conversion: {
      store: {
        admit: async () => ({ outcome: 'blocked', until: Date.now() + 60_000, newly: true, alert: true, blockedRanges: 1 }),
        count: async () => {},
        stats: async () => { throw new Error('Connection is closed.') }
      },
      policy,
      allowPrefixes: []
    },
    onCountryAlert: (alert) => { alerts.push(alert) },
    onError: (error) => { errors.push(error) }
  })
  t.match(await refusal(guard.admit(US_MOBILE)), { code: 'destination_blocked' })
  await new Promise((resolve) => setImmediate(resolve))
  t.same(alerts, [{ country: 'US', blockedRanges: 1, sent: null, verified: null, networks: null }])
  t.match(errors, [{ message: 'Connection is closed.' }])
})

t.test('a client\'s network: its /24 (IPv4) or /48 (IPv6)', async (t) => {
  t.equal(clientNetwork('198.51.100.7'), '198.51.100.0/24')
  t.equal(clientNetwork('::ffff:198.51.100.7'), '198.51.100.0/24', 'IPv4-mapped')
  t.equal(clientNetwork('2001:db8:12:3456::1'), '2001:db8:12::/48')
  t.equal(clientNetwork('2001:0DB8:0012:ffff:1:2:3:4'), '2001:db8:12::/48', 'one spelling')
  t.equal(clientNetwork('2001:db8::1'), '2001:db8:0::/48', 'zeros spelled out')
  t.equal(clientNetwork('::1'), '0:0:0::/48')
  t.equal(clientNetwork('not an ip'), 'not an ip')
})
