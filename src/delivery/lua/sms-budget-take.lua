-- KEYS[1] the counter of one country and hour; ARGV[1] budget, ARGV[2] ttl ms
-- Returns 1 when a unit was taken, 0 when the budget is spent (and then nothing is counted).
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
-- a counter INCR has just made has no TTL yet: the first take starts it, later ones keep it
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
