-- KEYS: challenge
-- ARGS (ARGV after the clock): hash, ttlMs, exempt, cooldownMs, quota, quotaWindowMs, slot, dailyQuota, dailyWindowMs,
--       linkHash, then the throttle's limits (throttleArgs)
local challenge = KEYS[1]
local fields = redis.call('HMGET', challenge, 'destKey', 'purpose', 'payload')
local base, purpose = fields[1], fields[2]
if not base then return { 'expired' } end
local ttl_ms, exempt = tonumber(ARGS[2]), ARGS[3] == '1'
local cooldown_ms, limit, window_ms = tonumber(ARGS[4]), tonumber(ARGS[5]), tonumber(ARGS[6])
local daily, daily_ms = tonumber(ARGS[8]), tonumber(ARGS[9])
local cooldown, quota = base .. 'cd:' .. purpose, base .. 'q'
local now = now_ms()

local refusal = send_refusal(cooldown, quota, now, exempt, limit, window_ms, daily, daily_ms)
if refusal then return refusal end

local resend_after = record_send(cooldown, quota, now, exempt, cooldown_ms, math.max(window_ms, daily_ms), ARGS[7])
redis.call('HSET', challenge, 'hash', ARGS[1], 'attempts', 0, 'slot', exempt and '' or ARGS[7], 'expiresAt', now + ttl_ms,
  'link', ARGS[10])
redis.call('PEXPIRE', challenge, ttl_ms)
redis.call('SET', base .. 'p:' .. purpose, challenge, 'PX', ttl_ms)
local suspended_ms = throttle_suspension(otp_throttle(base), throttle_limits(ARGS, 11), now)
return { 'issued', fields[3], now, now + ttl_ms, resend_after, suspended_ms > 0 and 1 or 0 }
