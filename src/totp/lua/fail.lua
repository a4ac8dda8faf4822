-- KEYS: run, suspension, notice
-- ARGV: freeFailures, suspendAfter, noticeIntervalMs
-- the attempt stays counted; answers 1 when the owner should hear of the throttling (at most once per interval)
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[2]) then redis.call('SET', KEYS[2], '1') end
if count > tonumber(ARGV[1]) and redis.call('SET', KEYS[3], '1', 'PX', ARGV[3], 'NX') then return 1 end
return 0
