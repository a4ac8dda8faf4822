-- KEYS: run
-- an attempt that failed on our side (a store, a key) does not count
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1
