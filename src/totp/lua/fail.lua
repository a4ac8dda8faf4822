-- KEYS: attempts, lock
-- ARGV: slot, threshold, windowMs, lockoutMs
local attempts, lock = KEYS[1], KEYS[2]
local threshold, window_ms, lockout_ms = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
window_count(attempts, now, window_ms)
-- scored again as of the failure: begin and fail may straddle a window edge
redis.call('ZADD', attempts, now, ARGV[1])
redis.call('PEXPIRE', attempts, window_ms)
if redis.call('ZCARD', attempts) >= threshold then
  redis.call('SET', lock, '1', 'PX', lockout_ms)
  redis.call('DEL', attempts)
  return lockout_ms
end
return 0
