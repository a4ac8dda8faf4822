-- Prepended to every OTP script. Keys named here are built from the destination key base stored in the
-- challenge; they carry the same {bucket} hash tag as KEYS[1], so they live on its Cluster slot.

-- Redis's clock, never the API host's
local function now_ms ()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- sliding window log: one sorted-set member per event, scored by its time in ms
local function window_count (key, now, window_ms)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window_ms)
  return redis.call('ZCARD', key)
end

-- ms until the window holds fewer than limit events again
local function window_wait (key, now, window_ms, limit, count)
  local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  return tonumber(entry[2]) + window_ms - now
end

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

