-- record: keep one execution of a schedule (a fire) and the schedule's last-fire state, and
-- trim the execution history to a cap, oldest first. Writing the same execution twice changes
-- nothing but its document, so a repeated fire is recorded once.
--
-- KEYS[1]  executions  hash: execution id -> JSON document
-- KEYS[2]  by_time     zset: execution id by fire time (ms)
-- KEYS[3]  state       hash: schedule name -> JSON of its last fire
-- ARGV[1]  execution_id
-- ARGV[2]  fire_ms     the fire time, integer ms
-- ARGV[3]  document    the execution's JSON
-- ARGV[4]  name        the schedule's name
-- ARGV[5]  state       the schedule's last-fire JSON
-- ARGV[6]  cap         executions kept at most (>= 1)
-- Returns: 1 if the execution is new, 0 if it was recorded before.
local executions, by_time, state = KEYS[1], KEYS[2], KEYS[3]
local execution_id, fire_ms, document = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local name, last, cap = ARGV[4], ARGV[5], tonumber(ARGV[6])
if not fire_ms or not cap or cap < 1 then
  return redis.error_reply('ERR dynoq bad argument fire_ms or cap')
end

local new = redis.call('HSET', executions, execution_id, document)
redis.call('ZADD', by_time, fire_ms, execution_id)
redis.call('HSET', state, name, last)
local over = redis.call('ZCARD', by_time) - cap
if over > 0 then
  local old = redis.call('ZRANGE', by_time, 0, over - 1)
  for i = 1, #old, 1000 do
    redis.call('HDEL', executions, unpack(old, i, math.min(i + 999, #old)))
  end
  redis.call('ZREMRANGEBYRANK', by_time, 0, over - 1)
end
return new
