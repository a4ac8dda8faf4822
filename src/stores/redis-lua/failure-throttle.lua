-- The failure throttle of src/throttle/throttling.ts (FailureThrottle, the same rule in memory), for every script that
-- throttles wrong codes; prepended after sliding-window.lua and backoff.lua. A subject's state is four keys on one
-- Cluster slot: its run of consecutive failures (forgotten memory_ms after the last), its wait, its failure log (the
-- failures of the last window_ms, a sliding window: suspend_after of them suspend the subject until the oldest leaves
-- the window, so a suspension always ends by itself) and its last notice.

local function throttle_keys (run, wait, log, notice)
  return { run = run, wait = wait, log = log, notice = notice }
end

-- Redis's own clock, for the scripts that take none from their caller
local function throttle_clock ()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- the limits from args[first], in the order of throttleArgs (src/stores/redis-lua/failure-throttle.ts), and the log
-- member this attempt is recorded as
local function throttle_limits (args, first)
  return {
    free = tonumber(args[first]), base_ms = tonumber(args[first + 1]), max_ms = tonumber(args[first + 2]),
    suspend_after = tonumber(args[first + 3]), memory_ms = args[first + 4], notice_ms = args[first + 5],
    window_ms = tonumber(args[first + 6]), member = args[first + 7]
  }
end

-- ms left of the subject's suspension (0: none): the window holds suspend_after failures until its oldest leaves
local function throttle_suspension (keys, limits, now)
  local count = window_count(keys.log, now, limits.window_ms)
  if count < limits.suspend_after then return 0 end
  return window_wait(keys.log, now, limits.window_ms, limits.suspend_after, count)
end

-- ms left of the subject's suspension and of its wait (0: none)
local function throttle_state (keys, limits, now)
  return throttle_suspension(keys, limits, now), math.max(redis.call('PTTL', keys.wait), 0)
end

-- the run grows by one and, past the free failures, starts the next wait; the failure joins the log; answers the
-- run's length
local function throttle_count (keys, limits, now)
  local count = redis.call('INCR', keys.run)
  redis.call('PEXPIRE', keys.run, limits.memory_ms)
  redis.call('ZADD', keys.log, now, limits.member)
  redis.call('PEXPIRE', keys.log, limits.window_ms)
  local wait_ms = backoff_ms(count - limits.free, limits.base_ms, limits.max_ms)
  if wait_ms > 0 then redis.call('SET', keys.wait, '1', 'PX', wait_ms) end
  return count
end

-- a counted attempt failed: true when the owner is to hear of the throttling now (the run is past its free failures,
-- and no notice went out within notice_ms)
local function throttle_fail (keys, limits)
  local count = tonumber(redis.call('GET', keys.run) or '0')
  if count <= limits.free then return false end
  return redis.call('SET', keys.notice, '1', 'PX', limits.notice_ms, 'NX') ~= false
end

-- a success ends the run and its wait; the log stays, so successes never buy a guesser more failures per window
local function throttle_succeed (keys)
  redis.call('DEL', keys.run, keys.wait)
end

-- an attempt that failed on our side does not count
local function throttle_forgive (keys)
  if tonumber(redis.call('GET', keys.run) or '0') > 0 then redis.call('DECR', keys.run) end
  redis.call('ZPOPMAX', keys.log)
end
