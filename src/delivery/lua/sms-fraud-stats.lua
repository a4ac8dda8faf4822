-- KEYS: country stats; ARGV: now, bucketMs, buckets. Returns { sent, verified } in the window.
local current = math.floor(tonumber(ARGV[1]) / tonumber(ARGV[2]))
local sent, verified = window_sums(KEYS[1], current, tonumber(ARGV[3]))
return { sent, verified }
