-- KEYS: range stats, country stats, the country's blocked ranges (sorted set: range -> block end), the range's
-- history (hash: day -> verified codes), the country's client networks (sorted set: network -> last send); one
-- hash tag
-- ARGV: range, now, bucketMs, buckets, minSends, minConversion, blockMs, countryAlertRanges, ttlMs, dayMs,
-- historyDays, historyMinVerified, the client's network ('' for none), the most networks kept
-- Returns { 'admitted' } or { 'blocked', until, newly (0/1), alert (0/1), blocked ranges of the country }
-- A country is never blocked: its blocked ranges only raise the alert (the caller tells the operator)
local now = tonumber(ARGV[2])
local range_until = tonumber(redis.call('HGET', KEYS[1], 'blocked') or '0')
if range_until > now then
  return { 'blocked', range_until, 0, 0, redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf') }
end

local current, buckets, ttl_ms = math.floor(now / tonumber(ARGV[3])), tonumber(ARGV[4]), ARGV[9]
local sent, verified = window_sums(KEYS[1], current, buckets)
local pumped = sent >= tonumber(ARGV[5]) and verified < sent * tonumber(ARGV[6])
local history_days = tonumber(ARGV[11])
if pumped and history_days > 0 then
  -- a range whose codes real users typed in on earlier days is not blocked: the budgets still bound it
  pumped = history_sum(KEYS[4], math.floor(now / tonumber(ARGV[10])), history_days) < tonumber(ARGV[12])
end
if pumped then
  local block_ms = tonumber(ARGV[7])
  local until_ms = now + block_ms
  redis.call('HSET', KEYS[1], 'blocked', until_ms)
  redis.call('PEXPIRE', KEYS[1], ttl_ms)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('ZADD', KEYS[3], until_ms, ARGV[1])
  redis.call('PEXPIRE', KEYS[3], block_ms)
  local blocked = redis.call('ZCARD', KEYS[3])
  local threshold = tonumber(ARGV[8])
  local alert = 0
  if threshold > 0 and blocked >= threshold and tonumber(redis.call('HGET', KEYS[2], 'alerted') or '0') <= now then
    redis.call('HSET', KEYS[2], 'alerted', until_ms)
    redis.call('PEXPIRE', KEYS[2], ttl_ms)
    alert = 1
  end
  return { 'blocked', until_ms, 1, alert, blocked }
end

add(KEYS[1], 's:' .. current, 1, current, buckets, ttl_ms)
add(KEYS[2], 's:' .. current, 1, current, buckets, ttl_ms)
if ARGV[13] ~= '' then
  local window_ms = tonumber(ARGV[3]) * buckets
  redis.call('ZADD', KEYS[5], now, ARGV[13])
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - window_ms)
  -- the least recent beyond the most kept: "many" is all an operator needs to know
  local extra = redis.call('ZCARD', KEYS[5]) - tonumber(ARGV[14])
  if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[5], 0, extra - 1) end
  redis.call('PEXPIRE', KEYS[5], window_ms)
end
return { 'admitted' }
