-- ack: delete in-flight messages for good. A message is acked only if it is in flight and, when
-- a receipt is given, the receipt is the one of its current delivery; a late ack from a consumer
-- whose lease expired (and whose message was redelivered) changes nothing.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/shard.lua)
-- ARGV[1]     given  a msgpack array: n ids, then their n receipts in the same order ('' = any
--                    delivery); one argument rather than 2n, as a client pays per argument
-- Returns: how many ids were acked (an id given twice counts once).
--!include lib/shard.lua

local shard = bind_shard_keys()
local given = cmsgpack.unpack(ARGV[1])
local n = #given / 2
if n < 1 then return 0 end

-- One HMGET to check the batch (a record holds a receipt exactly while the message is in
-- flight: see lib/shard.lua), one ZREM and HDEL to delete it. The receipt is read in place
-- (byte 12 its length, then the receipt) rather than through a helper: this loop is the
-- script's cost after the HMGET.
local records = redis.call('HMGET', shard.messages, unpack(given, 1, n))
local byte, sub = string.byte, string.sub
local doomed, count = {}, 0
for i = 1, n do
  local record = records[i]
  -- in flight: delivered (the header's flag) and holding a receipt (its length > 0)
  local size = record and byte(record, 1) >= DELIVERED and byte(record, 12) or 0
  if size > 0 then
    local receipt = given[n + i]
    if receipt == '' or receipt == sub(record, 13, 12 + size) then
      count = count + 1
      doomed[count] = given[i]
    end
  end
end
if count == 0 then return 0 end
redis.call('ZREM', shard.in_flight, unpack(doomed))
-- HDEL counts each field it removed once, so an id given twice counts once
return redis.call('HDEL', shard.messages, unpack(doomed))
