-- The one doubling backoff of src/throttle/backoff.ts, for the scripts that wait by it: base_ms at step 1, twice as long at
-- each step after, never more than max_ms, and nothing before step 1.
local function backoff_ms (step, base_ms, max_ms)
  if step < 1 then return 0 end
  return math.floor(math.min(max_ms, base_ms * 2 ^ (step - 1)))
end

