-- ack: delete in-flight messages for good. A message is acked only if it is in flight and, when
-- a receipt is given, the receipt is the one of its current delivery; a late ack from a consumer
-- whose lease expired (and whose message was redelivered) changes nothing.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/shard.lua)
-- ARGV[1..]   pairs: id, receipt ('' = any delivery)
-- Returns: for each pair in order, 1 if acked else 0.
--!include lib/shard.lua
--!include lib/delivery.lua

local shard = bind_shard_keys()
local ids = {}
for i = 1, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
if #ids == 0 then return {} end

-- One HMGET to check the batch (a record holds a receipt exactly while the message is in
-- flight: see lib/shard.lua), one ZREM and HDEL to delete it.
local records = redis.call('HMGET', shard.messages, unpack(ids))
local reply, doomed, seen = {}, {}, {}
for i, id in ipairs(ids) do
  local receipt = ARGV[2 * i]
  local acked = 0
  if records[i] and not seen[id] then
    local current = receipt_of(records[i])
    if current ~= '' and (receipt == '' or receipt == current) then
      doomed[#doomed + 1] = id
      seen[id] = true
      acked = 1
    end
  end
  reply[i] = acked
end
if #doomed > 0 then
  redis.call('ZREM', shard.in_flight, unpack(doomed))
  redis.call('HDEL', shard.messages, unpack(doomed))
end
return reply
