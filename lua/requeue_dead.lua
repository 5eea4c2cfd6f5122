-- requeue_dead: replay dead letters: each goes back to ready at its own priority with attempts 0.
-- With ids, only those (ids not dead are skipped); without, the oldest `limit` dead letters.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms      integer ms, or '' to read the server clock
-- ARGV[2]     channel     pub/sub channel to wake waiting consumers, or ''
-- ARGV[3]     limit       1..100000, used when no ids are given
-- ARGV[4..]   ids (optional)
-- Returns: the number of messages requeued.
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/shard.lua

local shard = bind_shard_keys()
local now = check_now(ARGV[1])
local channel = ARGV[2]
local limit = check_int(ARGV[3], 'limit', 1, 100000)

local ids = {}
if #ARGV >= 4 then
  for i = 4, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', shard.dead, 0, limit - 1)
end

move_ready_by(shard, now, limit, NOT_KNOWN)
local requeued = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', shard.dead, id) == 1 then
    local record = redis.call('HGET', shard.messages, id)
    local priority, _, _, _, payload = split_record(record)
    redis.call('HSET', shard.messages, id, make_record(priority, 0, '', now, payload))
    enqueue_ready(shard, id, priority)
    requeued = requeued + 1
  end
end
if requeued > 0 then wake_consumers(channel) end
return requeued
