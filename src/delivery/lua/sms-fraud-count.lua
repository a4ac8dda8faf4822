-- KEYS: range stats, country stats (one hash tag)
-- ARGV: 'v' (a verified code, +1) or 's' (a send taken back, -1), now, bucketMs, buckets, ttlMs
local current, buckets, ttl_ms = math.floor(tonumber(ARGV[2]) / tonumber(ARGV[3])), tonumber(ARGV[4]), ARGV[5]
local delta = ARGV[1] == 'v' and 1 or -1
for _, key in ipairs(KEYS) do
  local field = ARGV[1] .. ':' .. current
  -- a send is only taken back where one was counted
  if delta > 0 or redis.call('HEXISTS', key, field) == 1 then add(key, field, delta, current, buckets, ttl_ms) end
end
return 1
