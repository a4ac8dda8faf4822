import t from 'tap'
import { backoffMs } from '../../src/throttle/backoff.ts'
import { BACKOFF_LUA } from '../../src/stores/redis-lua/backoff.ts'
import { createTestRedis } from '../helpers/redis.ts'

// the delivery retries' and the throttle's own settings, and one whose doubling overflows long before its cap
const SETTINGS = [
  { baseMs: 100, maxMs: 1000 },
  { baseMs: 1000, maxMs: 30_000 },
  { baseMs: 1000, maxMs: 900_000 },
  { baseMs: 200, maxMs: 300 },
  { baseMs: 3, maxMs: 2 ** 52 }
]
const STEPS = [-3, -1, 0, 1, 2, 3, 4, 5, 10, 20, 40, 99, 2000]

t.test('the formula: nothing before step 1, then doubling from the base, capped', async (t) => {
  const retry = { baseMs: 100, maxMs: 1000 }
  t.same([0, 1, 2, 3, 4, 5, 6].map((step) => backoffMs(step, retry)), [0, 100, 200, 400, 800, 1000, 1000])
  t.equal(backoffMs(2000, retry), 1000, 'an overflowing doubling is the cap')
})

t.test('backoff.lua answers what src/throttle/backoff.ts answers', async (t) => {
  const client = createTestRedis()
  t.teardown(() => client.quit())
  const lua = `${BACKOFF_LUA}
local answers = {}
for i = 1, #ARGV, 3 do answers[#answers + 1] = backoff_ms(tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])) end
return answers`
  const cases = SETTINGS.flatMap((backoff) => STEPS.map((step) => ({ step, backoff })))
  const args = cases.flatMap(({ step, backoff }) => [step, backoff.baseMs, backoff.maxMs])
  const answers = await client.eval(lua, 0, ...args) as number[]
  t.same(answers, cases.map(({ step, backoff }) => backoffMs(step, backoff)))
})
