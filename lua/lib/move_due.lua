-- Moving what came due before an arriving message (push, ensure). A block, not a function: it is
-- pasted where it is included, since each function a script defines is a closure created on
-- every call, and push and ensure are the calls made most. Moves the delayed messages due by
-- now, at most move_limit (a checked integer) of them, to ready in due order, so that
-- whatever came due before the new message is ahead of it: the order move_ready_by in
-- lib/shard.lua keeps. Expects the locals ready_key, delayed_key, seq_key, now and move_limit.
do
  -- redis.call formats a Lua number with %.17g, which costs more than this ZRANGEBYSCORE on an
  -- empty set: the bound goes as an integer string.
  local top = string.format('%d', now * TIME_SCALE + (TIME_SCALE - 1))
  local due = redis.call('ZRANGEBYSCORE', delayed_key, '-inf', top, 'WITHSCORES', 'LIMIT', '0', move_limit)
  if #due > 0 then
    local n = #due / 2
    redis.call('ZREMRANGEBYRANK', delayed_key, 0, n - 1)
    local seq = redis.call('INCRBY', seq_key, n) - n
    local scored = {}
    for i = 1, #due, 2 do
      seq = seq + 1
      scored[i] = (tonumber(due[i + 1]) % TIME_SCALE) * PRIORITY_SPAN + seq
      scored[i + 1] = due[i]
    end
    redis.call('ZADD', ready_key, unpack(scored))
  end
end
