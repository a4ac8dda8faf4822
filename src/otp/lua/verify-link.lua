-- KEYS: challenge
-- ARGS (ARGV after the clock): purpose, linkHash
-- The sign-in link: a high-entropy secret, so neither a wait nor a suspension applies (nothing here is guessable)
-- and a wrong one is not counted. Single use, like a code; it ends the destination's run of failures, not its log.
local challenge = KEYS[1]
local fields = redis.call('HMGET', challenge, 'destKey', 'purpose', 'payload', 'link')
local base, link = fields[1], fields[4]
if not base or fields[2] ~= ARGS[1] or not link or link == '' or link ~= ARGS[2] then return { 'expired' } end
local snapshot = redis.call('HGETALL', challenge)
local expires_at = now_ms() + redis.call('PTTL', challenge)
redis.call('DEL', challenge)
throttle_succeed(otp_throttle(base))
-- the snapshot as one JSON string, as verify.lua hands it
return { 'verified', fields[3], expires_at, cjson.encode(snapshot) }
