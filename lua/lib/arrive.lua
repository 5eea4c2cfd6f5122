-- What a message arriving on a shard (push, ensure) needs first; include after lib/keys.lua.
-- The one helper push and ensure create: their other steps are inline, as each function a script
-- defines is a closure created on every call.

-- Moves the delayed messages due by `now`, at most `limit` (an integer, or its decimal string),
-- to ready in due order, so that whatever came due before a push is ahead of it. Returns how many.
local function move_due(shard, now, limit)
  -- redis.call formats a Lua number with %.17g, which costs more than this ZRANGEBYSCORE on an
  -- empty set: the bound goes as an integer string.
  local top = string.format('%d', now * TIME_SCALE + (TIME_SCALE - 1))
  local due = redis.call('ZRANGEBYSCORE', shard.delayed, '-inf', top, 'WITHSCORES', 'LIMIT', '0', limit)
  local n = #due / 2
  if n == 0 then return 0 end
  redis.call('ZREMRANGEBYRANK', shard.delayed, 0, n - 1)
  local seq = redis.call('INCRBY', shard.seq, n) - n
  local scored = {}
  for i = 1, #due, 2 do
    seq = seq + 1
    scored[i] = (tonumber(due[i + 1]) % TIME_SCALE) * PRIORITY_SPAN + seq
    scored[i + 1] = due[i]
  end
  redis.call('ZADD', shard.ready, unpack(scored))
  return n
end
