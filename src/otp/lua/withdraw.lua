-- KEYS: challenge
-- undoes a start or resend whose delivery failed: the user is not charged for it
local challenge = KEYS[1]
local fields = redis.call('HMGET', challenge, 'destKey', 'purpose', 'slot')
local base, purpose, slot = fields[1], fields[2], fields[3]
if not base then return 0 end
redis.call('DEL', challenge)
forget_pointer(base .. 'p:' .. purpose, challenge)
redis.call('DEL', base .. 'cd:' .. purpose)
if slot and slot ~= '' then redis.call('ZREM', base .. 'q', slot) end
return 1
