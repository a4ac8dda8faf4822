-- Prepended to the scripts that count events in a sliding window (OTP sends).

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

