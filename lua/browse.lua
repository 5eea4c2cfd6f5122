-- browse: one page of the shard's messages in one state, in that state's order, without
-- changing anything (what an operator looks at; pop and peek move due messages, this does not).
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     state   'ready' | 'delayed' | 'in_flight' | 'dead'
-- ARGV[2]     offset  0..10000, rank of the first message in that state's zset
-- ARGV[3]     count   1..10000
-- Returns: {id1, score1, record1, id2, ...} (score: the zset score, see lib/keys.lua)
-- Errors: 'ERR dynoq bad argument <name>'.
--!include lib/shard.lua

local shard = bind_shard_keys()
local sets = { ready = shard.ready, delayed = shard.delayed, in_flight = shard.in_flight,
               dead = shard.dead }
local set = sets[ARGV[1]]
if not set then
  error({err = 'ERR dynoq bad argument state: ' .. tostring(ARGV[1])})
end
local offset = check_int(ARGV[2], 'offset', 0, 10000)
local count = check_int(ARGV[3], 'count', 1, 10000)

local found = redis.call('ZRANGE', set, offset, offset + count - 1, 'WITHSCORES')
local reply = {}
for i = 1, #found, 2 do
  local record = redis.call('HGET', shard.messages, found[i])
  if record then
    reply[#reply + 1] = found[i]
    reply[#reply + 1] = tonumber(found[i + 1])
    reply[#reply + 1] = record
  end
end
return reply
