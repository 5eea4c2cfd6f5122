-- Finding which set holds an id (get, set_delay); include after lib/shard.lua.

-- Which set holds a message: 'ready', 'delayed', 'in_flight', 'dead', or nil; plus its score.
-- A 'delayed' message may already be due: it moves to ready on the next pop, peek or push.
local function locate(shard, id)
  local score = redis.call('ZSCORE', shard.ready, id)
  if score then return 'ready', tonumber(score) end
  score = redis.call('ZSCORE', shard.delayed, id)
  if score then return 'delayed', tonumber(score) end
  score = redis.call('ZSCORE', shard.in_flight, id)
  if score then return 'in_flight', tonumber(score) end
  score = redis.call('ZSCORE', shard.dead, id)
  if score then return 'dead', tonumber(score) end
  return nil, nil
end
