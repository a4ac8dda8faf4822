-- KEYS: the subject's throttle (run, wait, suspension, notice)
throttle_succeed(throttle_keys(KEYS[1], KEYS[2], KEYS[3], KEYS[4]))
return 1
