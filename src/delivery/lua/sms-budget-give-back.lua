-- KEYS[1] the counter of one country and hour. DECR keeps the TTL; a lapsed counter is not brought back.
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used > 0 then redis.call('DECR', KEYS[1]) end
return used
