-- KEYS: challenge
-- ARGS (ARGV after the clock): purpose, hash, previousHash ('' = none), then the throttle's limits (throttleArgs)
local challenge = KEYS[1]
local fields = redis.call('HMGET', challenge, 'destKey', 'purpose', 'payload', 'hash', 'attempts', 'maxAttempts')
local base, purpose, stored = fields[1], fields[2], fields[4]
-- another purpose is answered like an unknown id, and consumes nothing
if not base or purpose ~= ARGS[1] then return { 'expired' } end

-- the destination's throttle: a suspension or a wait refuses the check, so nothing is counted beyond the limits
local throttle = otp_throttle(base)
local limits = throttle_limits(ARGS, 4)
local now = now_ms()
local suspended_ms, waiting = throttle_state(throttle, limits, now)
if suspended_ms > 0 then return { 'suspended', suspended_ms, 0, fields[3] } end
if waiting > 0 then return { 'throttled', waiting, 0, fields[3] } end

if stored == ARGS[2] or (ARGS[3] ~= '' and stored == ARGS[3]) then
  -- the snapshot lets reinstate.lua undo this; the pointer stays to lapse, so it can tell a newer challenge
  local snapshot = redis.call('HGETALL', challenge)
  local expires_at = now + redis.call('PTTL', challenge)
  redis.call('DEL', challenge)
  throttle_succeed(throttle)
  -- the snapshot as one JSON string: ioredis 6 decodes one bulk string in a third of the time of twenty
  return { 'verified', fields[3], expires_at, cjson.encode(snapshot) }
end

throttle_count(throttle, limits, now)
-- the owner hears of it at the first throttle step, then at most once per interval
local notify = throttle_fail(throttle, limits) and 1 or 0

local remaining = tonumber(fields[6]) - redis.call('HINCRBY', challenge, 'attempts', 1)
if remaining > 0 then return { 'invalid', remaining, notify, fields[3] } end
redis.call('DEL', challenge)
forget_pointer(base .. 'p:' .. purpose, challenge)
return { 'exhausted', 0, notify, fields[3] }
