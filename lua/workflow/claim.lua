-- claim: take a task definition's concurrency slot and rate-limit token for one task at poll
-- time (Conductor's concurrentExecLimit and rateLimitPerFrequency).
--
-- KEYS[1]  running  set of the task ids holding a slot
-- KEYS[2]  window   counter of the tasks handed out in the current rate window
-- ARGV[1]  task_id
-- ARGV[2]  limit        max tasks in progress at once (0 = unlimited)
-- ARGV[3]  rate         max tasks per window (0 = unlimited)
-- ARGV[4]  window_ms    the rate window
-- Returns: 0 when claimed; otherwise ms after which to try again.
local running_key, window_key = KEYS[1], KEYS[2]
local task_id = ARGV[1]
local limit, rate, window_ms = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not limit or not rate or not window_ms or window_ms < 1 then
  return redis.error_reply('ERR dynoq bad argument')
end
local holds = redis.call('SISMEMBER', running_key, task_id) == 1
if limit > 0 and not holds and redis.call('SCARD', running_key) >= limit then return 1000 end
if rate > 0 then
  local used = tonumber(redis.call('GET', window_key) or '0')
  if used >= rate then
    local ttl = redis.call('PTTL', window_key)
    return ttl > 0 and ttl or 1
  end
  if redis.call('INCR', window_key) == 1 then redis.call('PEXPIRE', window_key, window_ms) end
end
if limit > 0 then redis.call('SADD', running_key, task_id) end
return 0
