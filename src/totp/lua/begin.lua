-- KEYS: run (consecutive failures), wait, suspension
-- ARGV: freeFailures, baseDelayMs, maxDelayMs, memoryMs
-- An attempt counts as a failure from its start, so concurrent guesses cannot slip past the wait.
local run, wait, suspension = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', suspension) == 1 then return { 'suspended' } end
local waiting = redis.call('PTTL', wait)
if waiting > 0 then return { 'throttled', waiting } end
local count = redis.call('INCR', run)
redis.call('PEXPIRE', run, ARGV[4])
local free = tonumber(ARGV[1])
if count > free then
  redis.call('SET', wait, '1', 'PX', math.floor(math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ (count - free - 1))))
end
return { 'allowed' }
