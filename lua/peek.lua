-- peek: the ready messages `pop` would hand out next, in that order, without leasing them. Moves
-- what became ready by now into the ready set first, exactly as pop does, so the answer is pop's.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms          integer ms, or '' to read the server clock
-- ARGV[2]     count           1..10000
-- ARGV[3]     max_deliveries  0 = unlimited
-- ARGV[4]     move_limit      max due/expired messages moved to ready first
-- Returns: {id1, record1, id2, record2, ...}
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/shard.lua

local shard = bind_shard_keys()
local now = check_now(ARGV[1])
local count = check_int(ARGV[2], 'count', 1, 10000)
local max_deliveries = check_int(ARGV[3], 'max_deliveries', 0, 2^31)
local move_limit = check_int(ARGV[4], 'move_limit', 1, 100000)

move_ready_by(shard, now, move_limit, max_deliveries)
local ids = redis.call('ZRANGE', shard.ready, 0, count - 1)
local reply = {}
for _, id in ipairs(ids) do
  local record = redis.call('HGET', shard.messages, id)
  if record then
    reply[#reply + 1] = id
    reply[#reply + 1] = record
  end
end
return reply
