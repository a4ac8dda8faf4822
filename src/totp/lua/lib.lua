-- Prepended to every TOTP attempt script.

-- Redis's clock, never the API host's
local function now_ms ()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- sliding window log: one sorted-set member per attempt, scored by its time in ms
local function window_count (key, now, window_ms)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window_ms)
  return redis.call('ZCARD', key)
end
