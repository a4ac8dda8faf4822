-- KEYS: challenge
-- ARGS (ARGV after the clock): hash, ttlMs, cooldownMs, quota, quotaWindowMs, slot, dailyQuota, dailyWindowMs
local challenge = KEYS[1]
local fields = redis.call('HMGET', challenge, 'destKey', 'purpose', 'payload', 'fixed', 'skip')
local base, purpose = fields[1], fields[2]
if not base then return { 'expired' } end
local ttl_ms, skip = tonumber(ARGS[2]), fields[5] == '1'
local cooldown_ms, limit, window_ms = tonumber(ARGS[3]), tonumber(ARGS[4]), tonumber(ARGS[5])
local daily, daily_ms = tonumber(ARGS[7]), tonumber(ARGS[8])
local cooldown, quota = base .. 'cd:' .. purpose, base .. 'q'
local now = now_ms()

local refusal = send_refusal(cooldown, quota, now, skip, limit, window_ms, daily, daily_ms)
if refusal then return refusal end

local resend_after = record_send(cooldown, quota, now, skip, cooldown_ms, math.max(window_ms, daily_ms), ARGS[6])
-- a fixed test code stays what it was: the caller cannot know it before reading the destination
if fields[4] ~= '1' then redis.call('HSET', challenge, 'hash', ARGS[1]) end
redis.call('HSET', challenge, 'attempts', 0, 'slot', skip and '' or ARGS[6], 'expiresAt', now + ttl_ms)
redis.call('PEXPIRE', challenge, ttl_ms)
redis.call('SET', base .. 'p:' .. purpose, challenge, 'PX', ttl_ms)
return { 'issued', fields[3], fields[4], now, now + ttl_ms, resend_after }
