-- KEYS: challenge, pointer (destination+purpose -> current challenge), cooldown, quota
-- ARGS (ARGV after the clock): destKeyBase, purpose, payload, hash, maxAttempts, ttlMs, exempt, cooldownMs, quota,
--       quotaWindowMs, slot, dailyQuota, dailyWindowMs, linkHash, then the throttle's limits (throttleArgs)
local challenge, pointer, cooldown, quota = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local ttl_ms, exempt = tonumber(ARGS[6]), ARGS[7] == '1'
local cooldown_ms, limit, window_ms = tonumber(ARGS[8]), tonumber(ARGS[9]), tonumber(ARGS[10])
local daily, daily_ms = tonumber(ARGS[12]), tonumber(ARGS[13])
local now = now_ms()

local refusal = send_refusal(cooldown, quota, now, exempt, limit, window_ms, daily, daily_ms)
if refusal then return refusal end

-- a new code for the same destination and purpose invalidates the previous one
local previous = redis.call('GET', pointer)
if previous then redis.call('DEL', previous) end

local resend_after = record_send(cooldown, quota, now, exempt, cooldown_ms, math.max(window_ms, daily_ms), ARGS[11])
redis.call('HSET', challenge, 'destKey', ARGS[1], 'purpose', ARGS[2], 'payload', ARGS[3], 'hash', ARGS[4],
  'attempts', 0, 'maxAttempts', ARGS[5], 'createdAt', now, 'expiresAt', now + ttl_ms, 'slot', exempt and '' or ARGS[11],
  'link', ARGS[14])
redis.call('PEXPIRE', challenge, ttl_ms)
redis.call('SET', pointer, challenge, 'PX', ttl_ms)
-- a suspended destination's code cannot be checked: the caller sends the sign-in link instead
local suspended_ms = throttle_suspension(otp_throttle(ARGS[1]), throttle_limits(ARGS, 15), now)
return { 'issued', ARGS[3], now, now + ttl_ms, resend_after, suspended_ms > 0 and 1 or 0 }
