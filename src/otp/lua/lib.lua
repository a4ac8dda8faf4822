-- Prepended to every OTP script, after src/stores/redis-lua/sliding-window.lua. Keys named here are built from the
-- destination key base stored in the challenge; they carry the same {bucket} hash tag as KEYS[1], so they
-- live on its Cluster slot.

-- ARGV[1] is the clock: '' is Redis's own (always, outside tests: one clock for every API host); a test passes
-- epoch ms to move time without waiting. The scripts read their own arguments from ARGS, which starts after it.
local ARGS = { unpack(ARGV, 2) }
local function now_ms ()
  if ARGV[1] ~= '' then return tonumber(ARGV[1]) end
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- the send checks shared by start and resend: nil when a code may be sent, or the send is exempt from them. One
-- sorted set logs the sends of the daily window; the short window is its tail. A throttled destination still gets
-- codes.
local function send_refusal (cooldown, quota, now, exempt, limit, window_ms, daily, daily_ms)
  if exempt then return nil end
  local cooling = redis.call('PTTL', cooldown)
  if cooling > 0 then return { 'cooldown', cooling } end
  local total = window_count(quota, now, math.max(window_ms, daily_ms))
  if total >= daily then return { 'daily_quota', window_wait(quota, now, daily_ms, daily, total) } end
  local recent = redis.call('ZCOUNT', quota, '(' .. (now - window_ms), '+inf')
  if recent >= limit then return { 'quota', window_wait(quota, now, window_ms, limit, total) } end
  return nil
end

-- starts the cooldown and takes a quota slot (unless the send is exempt); returns when the next send is allowed
local function record_send (cooldown, quota, now, exempt, cooldown_ms, horizon_ms, slot)
  if exempt then return now end
  redis.call('ZADD', quota, now, slot)
  redis.call('PEXPIRE', quota, horizon_ms)
  if cooldown_ms <= 0 then return now end
  redis.call('SET', cooldown, '1', 'PX', cooldown_ms)
  return now + cooldown_ms
end

local function forget_pointer (pointer, challenge)
  if redis.call('GET', pointer) == challenge then redis.call('DEL', pointer) end
end


-- a destination's failure throttle (src/stores/redis-lua/failure-throttle.lua): run, wait, failure log, notice
local function otp_throttle (base)
  return throttle_keys(base .. 'f', base .. 'l', base .. 'x', base .. 'n')
end
