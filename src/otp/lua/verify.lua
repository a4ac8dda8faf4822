-- KEYS: challenge
-- ARGS (ARGV after the clock): purpose, hash, previousHash ('' = none), then the throttle's limits (throttleArgs)
local challenge = KEYS[1]
local fields = redis.call('HMGET', challenge, 'destKey', 'purpose', 'payload', 'hash', 'attempts', 'maxAttempts')
local base, purpose, stored = fields[1], fields[2], fields[4]
-- another purpose is answered like an unknown id, and consumes nothing
if not base or purpose ~= ARGS[1] then return { 'expired' } end

-- the destination's throttle: its run of failures, wait, suspension and last notice
local throttle = throttle_keys(base .. 'f', base .. 'l', base .. 's', base .. 'n')
local suspended, waiting = throttle_state(throttle)
if waiting > 0 then return { 'throttled', waiting, 0, fields[3] } end

if stored == ARGS[2] or (ARGS[3] ~= '' and stored == ARGS[3]) then
  -- the snapshot lets reinstate.lua undo this; the pointer stays to lapse, so it can tell a newer challenge
  local snapshot = redis.call('HGETALL', challenge)
  local expires_at = now_ms() + redis.call('PTTL', challenge)
  redis.call('DEL', challenge)
  -- code logins stay suspended until a recovery code or an operator
  throttle_succeed(throttle)
  return { 'verified', fields[3], expires_at, snapshot, suspended and 1 or 0 }
end

local limits = throttle_limits(ARGS, 4)
throttle_count(throttle, limits)
-- the owner hears of it at the first throttle step, then at most once per interval
local notify = throttle_fail(throttle, limits) and 1 or 0

local remaining = tonumber(fields[6]) - redis.call('HINCRBY', challenge, 'attempts', 1)
if remaining > 0 then return { 'invalid', remaining, notify, fields[3] } end
redis.call('DEL', challenge)
forget_pointer(base .. 'p:' .. purpose, challenge)
return { 'exhausted', 0, notify, fields[3] }
