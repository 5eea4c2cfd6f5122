-- set_delay: a waiting (ready or delayed) message becomes due at now + delay_us; 0 makes it due
-- now (a ready message keeps its place). In-flight and dead messages are left alone.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms      integer ms, or '' to read the server clock
-- ARGV[2]     channel     pub/sub channel to wake waiting consumers, or ''
-- ARGV[3]     move_limit  max due/expired messages moved to ready first
-- ARGV[4]     id
-- ARGV[5]     delay_us    >= 0, microseconds
-- Returns: 1 if the message was waiting (due time set), else 0.
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/shard.lua
--!include lib/locate.lua

local shard = bind_shard_keys()
local now, past_us = check_now(ARGV[1])
local channel = ARGV[2]
local move_limit = check_int(ARGV[3], 'move_limit', 1, 100000)
local id = ARGV[4]
local delay_us = check_int(ARGV[5], 'delay_us', 0, 2^52)

local where, score = locate(shard, id)
if where ~= 'ready' and where ~= 'delayed' then return 0 end
if where == 'ready' and delay_us == 0 then return 1 end

local priority
if where == 'ready' then
  priority = math.floor(score / PRIORITY_SPAN)
  redis.call('ZREM', shard.ready, id)
else
  priority = score % TIME_SCALE
  redis.call('ZREM', shard.delayed, id)
end
move_ready_by(shard, now, move_limit, NOT_KNOWN)
local due_ms = due_after(now, past_us, delay_us)
set_due(shard, id, due_ms)
enqueue(shard, id, priority, now, due_ms)
forget_seq_if_ready_empty(shard)
wake_consumers(channel)
return 1
