-- KEYS: the subject's throttle (run, wait, failure log, notice)
-- ARGV: the clock ('' = Redis's own; a test passes epoch ms), then the subject's limits (throttleArgs)
-- An attempt counts as a failure from its start, so concurrent guesses cannot slip past the wait.
local throttle = throttle_keys(KEYS[1], KEYS[2], KEYS[3], KEYS[4])
local limits = throttle_limits(ARGV, 2)
local now = ARGV[1] ~= '' and tonumber(ARGV[1]) or throttle_clock()
local suspended_ms, waiting = throttle_state(throttle, limits, now)
if suspended_ms > 0 then return { 'suspended', suspended_ms } end
if waiting > 0 then return { 'throttled', waiting } end
throttle_count(throttle, limits, now)
return { 'allowed' }
