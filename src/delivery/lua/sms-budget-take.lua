-- KEYS[1] the counter of one country and hour; KEYS[2] one client's share of it (same {country} slot)
-- ARGV[1] budget, ARGV[2] ttl ms, ARGV[3] the client's share (0 = no share counted)
-- Returns 1 when a unit was taken, 0 when the budget or the client's share is spent (and then nothing is counted).
local share = tonumber(ARGV[3])
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return 0 end
if share > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= share then return 0 end
-- a counter INCR has just made has no TTL yet: the first take starts it, later ones keep it
local function count (key)
  redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[2]) end
end
count(KEYS[1])
if share > 0 then count(KEYS[2]) end
return 1
