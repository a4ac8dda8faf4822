-- KEYS: challenge
-- ARGS (ARGV after the clock): expiresAt (Redis ms), then the challenge's fields and values as verify.lua read them
-- puts back a verified challenge whose follow-up work failed, unless it lapsed or a newer one replaced it
local challenge = KEYS[1]
local ttl_ms = tonumber(ARGS[1]) - now_ms()
if ttl_ms <= 0 or redis.call('EXISTS', challenge) == 1 then return 0 end
local fields = {}
for i = 2, #ARGS - 1, 2 do fields[ARGS[i]] = ARGS[i + 1] end
if not fields.destKey or not fields.purpose then return redis.error_reply('ERR not a challenge snapshot') end
local pointer = fields.destKey .. 'p:' .. fields.purpose
local current = redis.call('GET', pointer)
if current and current ~= challenge then return 0 end
redis.call('HSET', challenge, unpack(ARGS, 2))
redis.call('PEXPIRE', challenge, ttl_ms)
redis.call('SET', pointer, challenge, 'PX', ttl_ms)
return 1
