-- KEYS: the subject's throttle (run, wait, suspension, notice); ARGV: its limits (throttleArgs)
-- An attempt counts as a failure from its start, so concurrent guesses cannot slip past the wait.
local throttle = throttle_keys(KEYS[1], KEYS[2], KEYS[3], KEYS[4])
local suspended, waiting = throttle_state(throttle)
if suspended then return { 'suspended' } end
if waiting > 0 then return { 'throttled', waiting } end
throttle_count(throttle, throttle_limits(ARGV, 1))
return { 'allowed' }
