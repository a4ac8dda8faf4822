-- KEYS: attempts, lock
-- ARGV: slot, threshold, windowMs
local attempts, lock = KEYS[1], KEYS[2]
local threshold, window_ms = tonumber(ARGV[2]), tonumber(ARGV[3])
local locked = redis.call('PTTL', lock)
if locked > 0 then return { 'locked', locked } end

local now = now_ms()
local count = window_count(attempts, now, window_ms)
if count >= threshold then
  -- attempts in flight fill the budget: wait until the oldest entry leaves the window
  local oldest = redis.call('ZRANGE', attempts, count - threshold, count - threshold, 'WITHSCORES')
  return { 'locked', math.max(1, tonumber(oldest[2]) + window_ms - now) }
end
redis.call('ZADD', attempts, now, ARGV[1])
redis.call('PEXPIRE', attempts, window_ms)
return { 'allowed' }
