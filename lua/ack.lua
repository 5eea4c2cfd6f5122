-- ack: delete in-flight messages for good. A message is acked only if it is in flight and, when
-- a receipt is given, the receipt is the one of its current delivery; a late ack from a consumer
-- whose lease expired (and whose message was redelivered) changes nothing.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/shard.lua)
-- ARGV[1..]   pairs: id, receipt ('' = any delivery)
-- Returns: for each pair in order, 1 if acked else 0.
--!include lib/shard.lua

local shard = bind_shard_keys()
local reply = {}
for i = 1, #ARGV, 2 do
  local id, receipt = ARGV[i], ARGV[i + 1]
  local acked = 0
  if redis.call('ZSCORE', shard.in_flight, id) then
    local record = redis.call('HGET', shard.messages, id)
    local current_receipt = record and select(3, split_record(record))
    if receipt == '' or receipt == current_receipt then
      redis.call('ZREM', shard.in_flight, id)
      redis.call('HDEL', shard.messages, id)
      acked = 1
    end
  end
  reply[#reply + 1] = acked
end
return reply
