-- KEYS: challenge
-- ARGV: purpose, hash, previousHash ('' = none), failureSlot, lockoutThreshold, lockoutWindowMs, lockoutMs
local challenge = KEYS[1]
local fields = redis.call('HMGET', challenge, 'destKey', 'purpose', 'payload', 'hash', 'attempts', 'maxAttempts')
local base, purpose, stored = fields[1], fields[2], fields[4]
-- another purpose is answered like an unknown id, and consumes nothing
if not base or purpose ~= ARGV[1] then return { 'expired' } end
-- failures name the challenge's channel (for metrics), never its destination
local channel = cjson.decode(fields[3]).channel

local lock = base .. 'l'
local locked = redis.call('PTTL', lock)
if locked > 0 then return { 'locked', locked, channel } end

if stored == ARGV[2] or (ARGV[3] ~= '' and stored == ARGV[3]) then
  -- the snapshot lets reinstate.lua undo this; the pointer stays to lapse, so it can tell a newer challenge
  local snapshot = redis.call('HGETALL', challenge)
  local expires_at = now_ms() + redis.call('PTTL', challenge)
  redis.call('DEL', challenge)
  return { 'verified', fields[3], expires_at, snapshot }
end

local failures, threshold, window_ms = base .. 'f', tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()
window_count(failures, now, window_ms)
redis.call('ZADD', failures, now, ARGV[4])
redis.call('PEXPIRE', failures, window_ms)
if redis.call('ZCARD', failures) >= threshold then
  redis.call('SET', lock, '1', 'PX', ARGV[7])
  redis.call('DEL', failures)
end

local remaining = tonumber(fields[6]) - redis.call('HINCRBY', challenge, 'attempts', 1)
if remaining > 0 then return { 'invalid', remaining, channel } end
redis.call('DEL', challenge)
forget_pointer(base .. 'p:' .. purpose, challenge)
return { 'exhausted', 0, channel }
