-- The failure throttle of src/throttle/throttling.ts (FailureThrottle, the same rule in memory), for every script that
-- throttles wrong codes; prepended after backoff.lua. A subject's state is four keys on one Cluster slot: its run of
-- consecutive failures (forgotten memory_ms after the last), its wait, its suspension (no TTL: a recovery code or an
-- operator ends it) and its last notice.

local function throttle_keys (run, wait, suspension, notice)
  return { run = run, wait = wait, suspension = suspension, notice = notice }
end

-- the six limits from args[first], in the order of throttleArgs (src/stores/redis-lua/failure-throttle.ts)
local function throttle_limits (args, first)
  return {
    free = tonumber(args[first]), base_ms = tonumber(args[first + 1]), max_ms = tonumber(args[first + 2]),
    suspend_after = tonumber(args[first + 3]), memory_ms = args[first + 4], notice_ms = args[first + 5]
  }
end

-- whether the subject is suspended, and the ms left of its wait (0: none)
local function throttle_state (keys)
  return redis.call('EXISTS', keys.suspension) == 1, math.max(redis.call('PTTL', keys.wait), 0)
end

-- the run grows by one and, past the free failures, starts the next wait; answers the run's length
local function throttle_count (keys, limits)
  local count = redis.call('INCR', keys.run)
  redis.call('PEXPIRE', keys.run, limits.memory_ms)
  local wait_ms = backoff_ms(count - limits.free, limits.base_ms, limits.max_ms)
  if wait_ms > 0 then redis.call('SET', keys.wait, '1', 'PX', wait_ms) end
  return count
end

-- a counted attempt failed: a run of suspend_after suspends the subject; true when the owner is to hear of the
-- throttling now (the run is past its free failures, and no notice went out within notice_ms)
local function throttle_fail (keys, limits)
  local count = tonumber(redis.call('GET', keys.run) or '0')
  if count >= limits.suspend_after then redis.call('SET', keys.suspension, '1') end
  if count <= limits.free then return false end
  return redis.call('SET', keys.notice, '1', 'PX', limits.notice_ms, 'NX') ~= false
end

-- a success ends the run and its wait, unless the subject stays suspended
local function throttle_succeed (keys)
  if redis.call('EXISTS', keys.suspension) == 0 then redis.call('DEL', keys.run, keys.wait) end
end

-- an attempt that failed on our side does not count
local function throttle_forgive (keys)
  if tonumber(redis.call('GET', keys.run) or '0') > 0 then redis.call('DECR', keys.run) end
end

