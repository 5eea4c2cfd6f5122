-- nack: give an in-flight message back, ready again after delay_us (Conductor's postpone). The
-- delivery still counts: once a message was delivered max_deliveries times it is dead-lettered
-- instead. Ignored unless the message is in flight with the given receipt (when one is given).
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms          integer ms, or '' to read the server clock
-- ARGV[2]     channel         pub/sub channel to wake waiting consumers, or ''
-- ARGV[3]     move_limit      max due/expired messages moved to ready first
-- ARGV[4]     id
-- ARGV[5]     delay_us        >= 0, microseconds
-- ARGV[6]     receipt         '' = any delivery
-- ARGV[7]     max_deliveries  0 = unlimited
-- Returns: 1 if given back (or dead-lettered), 0 if not in flight or the receipt is stale.
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/shard.lua

local shard = bind_shard_keys()
local now, past_us = check_now(ARGV[1])
local channel = ARGV[2]
local move_limit = check_int(ARGV[3], 'move_limit', 1, 100000)
local id = ARGV[4]
local delay_us = check_int(ARGV[5], 'delay_us', 0, 2^52)
local receipt = ARGV[6]
local max_deliveries = check_int(ARGV[7], 'max_deliveries', 0, 2^31)

if not redis.call('ZSCORE', shard.in_flight, id) then return 0 end
local record = redis.call('HGET', shard.messages, id)
if not record then return 0 end
local priority, attempts, current_receipt, _, payload = split_record(record)
if receipt ~= '' and receipt ~= current_receipt then return 0 end

redis.call('ZREM', shard.in_flight, id)
if max_deliveries > 0 and attempts >= max_deliveries then
  dead_letter(shard, id, now)
  return 1
end
move_ready_by(shard, now, move_limit, max_deliveries)
local due_ms = due_after(now, past_us, delay_us)
redis.call('HSET', shard.messages, id, make_record(priority, attempts, '', due_ms, payload))
enqueue(shard, id, priority, now, due_ms)
wake_consumers(channel)
return 1
