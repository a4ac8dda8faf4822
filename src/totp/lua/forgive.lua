-- KEYS: the subject's throttle (run, wait, failure log, notice)
-- an attempt that failed on our side (a store, a key) does not count
throttle_forgive(throttle_keys(KEYS[1], KEYS[2], KEYS[3], KEYS[4]))
return 1
