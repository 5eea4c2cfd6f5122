-- dead_letters: the oldest dead-lettered messages of the shard, without changing anything.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     count  1..10000
-- Returns: {id1, dead_at_ms1, record1, id2, ...}
-- Errors: 'ERR dynoq bad argument <name>'.
--!include lib/shard.lua

local shard = bind_shard_keys()
local count = check_int(ARGV[1], 'count', 1, 10000)

local dead = redis.call('ZRANGE', shard.dead, 0, count - 1, 'WITHSCORES')
local reply = {}
for i = 1, #dead, 2 do
  local record = redis.call('HGET', shard.messages, dead[i])
  if record then
    reply[#reply + 1] = dead[i]
    reply[#reply + 1] = tonumber(dead[i + 1])
    reply[#reply + 1] = record
  end
end
return reply
