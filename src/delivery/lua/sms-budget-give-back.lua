-- KEYS[1] the counter of one country and hour, KEYS[2] a client's share of it (or a key never written).
-- DECR keeps the TTL; a lapsed counter is not brought back.
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used > 0 then redis.call('DECR', KEYS[1]) end
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return used
