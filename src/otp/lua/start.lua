-- KEYS: challenge, pointer (destination+purpose -> current challenge), cooldown, quota
-- ARGV: destKeyBase, purpose, payload, hash, maxAttempts, ttlMs, fixed, skip, cooldownMs, quota, quotaWindowMs, slot,
--       dailyQuota, dailyWindowMs
local challenge, pointer, cooldown, quota = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local ttl_ms, skip = tonumber(ARGV[6]), ARGV[8] == '1'
local cooldown_ms, limit, window_ms = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local daily, daily_ms = tonumber(ARGV[13]), tonumber(ARGV[14])
local now = now_ms()

local refusal = send_refusal(cooldown, quota, now, skip, limit, window_ms, daily, daily_ms)
if refusal then return refusal end

-- a new code for the same destination and purpose invalidates the previous one
local previous = redis.call('GET', pointer)
if previous then redis.call('DEL', previous) end

local resend_after = record_send(cooldown, quota, now, skip, cooldown_ms, math.max(window_ms, daily_ms), ARGV[12])
redis.call('HSET', challenge, 'destKey', ARGV[1], 'purpose', ARGV[2], 'payload', ARGV[3], 'hash', ARGV[4],
  'attempts', 0, 'maxAttempts', ARGV[5], 'fixed', ARGV[7], 'skip', ARGV[8], 'createdAt', now, 'expiresAt', now + ttl_ms,
  'slot', skip and '' or ARGV[12])
redis.call('PEXPIRE', challenge, ttl_ms)
redis.call('SET', pointer, challenge, 'PX', ttl_ms)
return { 'issued', ARGV[3], ARGV[7], now, now + ttl_ms, resend_after }
