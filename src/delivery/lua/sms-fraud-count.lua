-- KEYS: range stats, country stats, the range's history (one hash tag)
-- ARGV: 'v' (a verified code, +1) or 's' (a send taken back, -1), now, bucketMs, buckets, ttlMs, dayMs, historyDays
local current, buckets, ttl_ms = math.floor(tonumber(ARGV[2]) / tonumber(ARGV[3])), tonumber(ARGV[4]), ARGV[5]
local delta = ARGV[1] == 'v' and 1 or -1
for i = 1, 2 do
  local field = ARGV[1] .. ':' .. current
  -- a send is only taken back where one was counted
  if delta > 0 or redis.call('HEXISTS', KEYS[i], field) == 1 then add(KEYS[i], field, delta, current, buckets, ttl_ms) end
end
local history_days = tonumber(ARGV[7])
if delta > 0 and history_days > 0 then
  local day_ms = tonumber(ARGV[6])
  local today = math.floor(tonumber(ARGV[2]) / day_ms)
  if redis.call('HINCRBY', KEYS[3], today, 1) == 1 then history_sum(KEYS[3], today, history_days) end
  redis.call('PEXPIRE', KEYS[3], (history_days + 1) * day_ms)
end
return 1
