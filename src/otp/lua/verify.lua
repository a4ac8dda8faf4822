-- KEYS: challenge
-- ARGS (ARGV after the clock): purpose, hash, previousHash ('' = none), freeFailures, baseDelayMs, maxDelayMs, suspendAfter, memoryMs,
--       noticeIntervalMs
local challenge = KEYS[1]
local fields = redis.call('HMGET', challenge, 'destKey', 'purpose', 'payload', 'hash', 'attempts', 'maxAttempts')
local base, purpose, stored = fields[1], fields[2], fields[4]
-- another purpose is answered like an unknown id, and consumes nothing
if not base or purpose ~= ARGS[1] then return { 'expired' } end

local wait, failures, suspension = base .. 'l', base .. 'f', base .. 's'
local waiting = redis.call('PTTL', wait)
if waiting > 0 then return { 'throttled', waiting, 0, fields[3] } end

if stored == ARGS[2] or (ARGS[3] ~= '' and stored == ARGS[3]) then
  -- the snapshot lets reinstate.lua undo this; the pointer stays to lapse, so it can tell a newer challenge
  local snapshot = redis.call('HGETALL', challenge)
  local expires_at = now_ms() + redis.call('PTTL', challenge)
  redis.call('DEL', challenge)
  local suspended = redis.call('EXISTS', suspension)
  -- a right code ends the run of failures, unless code logins stay suspended until a recovery code or an operator
  if suspended == 0 then redis.call('DEL', failures) end
  return { 'verified', fields[3], expires_at, snapshot, suspended }
end

local free, base_delay, max_delay = tonumber(ARGS[4]), tonumber(ARGS[5]), tonumber(ARGS[6])
local count = redis.call('INCR', failures)
redis.call('PEXPIRE', failures, ARGS[8])
if count >= tonumber(ARGS[7]) then redis.call('SET', suspension, '1') end
local notify = 0
if count > free then
  redis.call('SET', wait, '1', 'PX', math.floor(math.min(max_delay, base_delay * 2 ^ (count - free - 1))))
  -- the owner hears of it at the first throttle step, then at most once per interval
  if redis.call('SET', base .. 'n', '1', 'PX', ARGS[9], 'NX') then notify = 1 end
end

local remaining = tonumber(fields[6]) - redis.call('HINCRBY', challenge, 'attempts', 1)
if remaining > 0 then return { 'invalid', remaining, notify, fields[3] } end
redis.call('DEL', challenge)
forget_pointer(base .. 'p:' .. purpose, challenge)
return { 'exhausted', 0, notify, fields[3] }
