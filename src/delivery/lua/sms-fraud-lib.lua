-- Prepended to the SMS fraud scripts. A stats hash holds 's:<bucket>' (sends) and 'v:<bucket>' (verified)
-- counters, and 'blocked' (epoch ms a block ends). Times come from the caller (ARGV), so tests move the clock.

-- sums the sends and verifications of the buckets in (current - buckets, current]; drops older ones
local function window_sums (key, current, buckets)
  local sent, verified = 0, 0
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    local kind, bucket = string.match(fields[i], '^([sv]):(%d+)$')
    if kind then
      bucket = tonumber(bucket)
      if bucket <= current - buckets then
        redis.call('HDEL', key, fields[i])
      elseif bucket <= current then
        if kind == 's' then sent = sent + tonumber(fields[i + 1]) else verified = verified + tonumber(fields[i + 1]) end
      end
    end
  end
  return sent, verified
end

-- adds delta to one bucket counter; a new bucket is the moment to drop the ones that left the window
local function add (key, field, delta, current, buckets, ttl_ms)
  local value = redis.call('HINCRBY', key, field, delta)
  if value == delta then window_sums(key, current, buckets) end
  if value <= 0 then redis.call('HDEL', key, field) end
  redis.call('PEXPIRE', key, ttl_ms)
end

-- a range's history hash holds '<day>' -> verified codes: sums the days in [today - days, today), drops older ones
local function history_sum (key, today, days)
  local total = 0
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    local day = tonumber(fields[i])
    if day < today - days then
      redis.call('HDEL', key, fields[i])
    elseif day < today then
      total = total + tonumber(fields[i + 1])
    end
  end
  return total
end
