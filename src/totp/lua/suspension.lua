-- KEYS: the subject's throttle (run, wait, failure log, notice)
-- ARGV: the clock ('' = Redis's own; a test passes epoch ms), then the subject's limits (throttleArgs)
-- ms left of the subject's suspension (0: none); changes nothing but dropping log entries older than the window
local now = ARGV[1] ~= '' and tonumber(ARGV[1]) or throttle_clock()
return throttle_suspension(throttle_keys(KEYS[1], KEYS[2], KEYS[3], KEYS[4]), throttle_limits(ARGV, 2), now)
