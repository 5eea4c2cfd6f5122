-- ensure: push one message only if its id is absent from the shard in every state (ready,
-- delayed, in flight, dead); Conductor's pushIfNotExists, but atomic.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms         integer ms, or '' to read the server clock
-- ARGV[2]     channel        pub/sub channel to wake waiting consumers, or ''
-- ARGV[3]     move_limit     max due/expired messages moved to ready first
-- ARGV[4]     id
-- ARGV[5]     priority       0..99
-- ARGV[6]     delay_us       >= 0, microseconds
-- ARGV[7]     payload        bytes
-- Returns: 1 if pushed, 0 if the id was already present (nothing changed).
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/keys.lua
--!include lib/args.lua
--!include lib/arrive.lua

local shard = bind_shard_keys()
local now, past_us = check_now(ARGV[1])
local channel = ARGV[2]
local move_limit = ARGV[3]
check_int(move_limit, 'move_limit', 1, 100000)
local id = ARGV[4]
local priority = check_int(ARGV[5], 'priority', 0, 99)
local delay_us = check_int(ARGV[6], 'delay_us', 0, 2^52)
local payload = ARGV[7]

-- An id has a record exactly when it is in one of the four sets: HSETNX is the check and the
-- write in one call, and no set needs looking at.
local due_ms = due_after(now, past_us, delay_us)
if redis.call('HSETNX', shard.messages, id, struct.pack(NEW_RECORD, priority, due_ms, payload)) == 0 then
  return 0
end
move_due(shard, now, move_limit)
if delay_us > 0 then
  redis.call('ZADD', shard.delayed, due_ms * TIME_SCALE + priority, id)
else
  redis.call('ZADD', shard.ready, priority * PRIORITY_SPAN + redis.call('INCR', shard.seq), id)
end
if channel ~= '' then redis.call('PUBLISH', channel, '1') end
return 1
