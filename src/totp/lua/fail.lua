-- KEYS: the subject's throttle (run, wait, failure log, notice); ARGV: its limits (throttleArgs)
-- the attempt stays counted; answers 1 when the owner should hear of the throttling (at most once per interval)
local throttle = throttle_keys(KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return throttle_fail(throttle, throttle_limits(ARGV, 1)) and 1 or 0
