-- KEYS: country stats, the country's client networks (sorted set: network -> last send); ARGV: now, bucketMs, buckets
-- Returns { sent, verified, networks } in the window.
local now, bucket_ms, buckets = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local sent, verified = window_sums(KEYS[1], math.floor(now / bucket_ms), buckets)
return { sent, verified, redis.call('ZCOUNT', KEYS[2], '(' .. (now - bucket_ms * buckets), now) }
