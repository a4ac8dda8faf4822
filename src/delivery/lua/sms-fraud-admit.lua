-- KEYS: range stats, country stats, the country's blocked ranges (sorted set: range -> block end); one hash tag
-- ARGV: range, now, bucketMs, buckets, minSends, minConversion, blockMs, countryBlockedRanges, ttlMs
-- Returns { 'admitted' } or { 'blocked', scope ('range' | 'country'), until, newly (0/1) }
local now = tonumber(ARGV[2])
local country_until = tonumber(redis.call('HGET', KEYS[2], 'blocked') or '0')
if country_until > now then return { 'blocked', 'country', country_until, 0 } end
local range_until = tonumber(redis.call('HGET', KEYS[1], 'blocked') or '0')
if range_until > now then return { 'blocked', 'range', range_until, 0 } end

local current, buckets, ttl_ms = math.floor(now / tonumber(ARGV[3])), tonumber(ARGV[4]), ARGV[9]
local sent, verified = window_sums(KEYS[1], current, buckets)
if sent >= tonumber(ARGV[5]) and verified < sent * tonumber(ARGV[6]) then
  local block_ms = tonumber(ARGV[7])
  local until_ms = now + block_ms
  redis.call('HSET', KEYS[1], 'blocked', until_ms)
  redis.call('PEXPIRE', KEYS[1], ttl_ms)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('ZADD', KEYS[3], until_ms, ARGV[1])
  redis.call('PEXPIRE', KEYS[3], block_ms)
  local threshold = tonumber(ARGV[8])
  if threshold > 0 and redis.call('ZCARD', KEYS[3]) >= threshold then
    redis.call('HSET', KEYS[2], 'blocked', until_ms)
    redis.call('PEXPIRE', KEYS[2], ttl_ms)
    return { 'blocked', 'country', until_ms, 1 }
  end
  return { 'blocked', 'range', until_ms, 1 }
end

add(KEYS[1], 's:' .. current, 1, current, buckets, ttl_ms)
add(KEYS[2], 's:' .. current, 1, current, buckets, ttl_ms)
return { 'admitted' }
