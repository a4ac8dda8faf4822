-- Prepended to every OTP script, after src/redis-lua/sliding-window.lua. Keys named here are built from the
-- destination key base stored in the challenge; they carry the same {bucket} hash tag as KEYS[1], so they
-- live on its Cluster slot.

-- the send checks shared by start and resend: nil when a code may be sent
local function send_refusal (lock, cooldown, quota, now, skip, limit, window_ms)
  local locked = redis.call('PTTL', lock)
  if locked > 0 then return { 'locked', locked } end
  if skip then return nil end
  local cooling = redis.call('PTTL', cooldown)
  if cooling > 0 then return { 'cooldown', cooling } end
  local count = window_count(quota, now, window_ms)
  if count >= limit then return { 'quota', window_wait(quota, now, window_ms, limit, count) } end
  return nil
end

-- starts the cooldown and takes a quota slot; returns when the next send is allowed
local function record_send (cooldown, quota, now, skip, cooldown_ms, window_ms, slot)
  if skip then return now end
  redis.call('ZADD', quota, now, slot)
  redis.call('PEXPIRE', quota, window_ms)
  if cooldown_ms <= 0 then return now end
  redis.call('SET', cooldown, '1', 'PX', cooldown_ms)
  return now + cooldown_ms
end

local function forget_pointer (pointer, challenge)
  if redis.call('GET', pointer) == challenge then redis.call('DEL', pointer) end
end

