-- KEYS: the subject's throttle (run, wait, failure log, notice)
-- beginAttempt logged the attempt as a failure: a success takes it back out, then ends the run
local throttle = throttle_keys(KEYS[1], KEYS[2], KEYS[3], KEYS[4])
throttle_forgive(throttle)
throttle_succeed(throttle)
return 1
