-- ensure: push one message only if its id is absent from the shard in every state (ready,
-- delayed, in flight, dead); Conductor's pushIfNotExists, but atomic.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/shard.lua)
-- ARGV[1]     now_ms         integer ms, or '' to read the server clock
-- ARGV[2]     channel        pub/sub channel to wake waiting consumers, or ''
-- ARGV[3]     move_limit     max due/expired messages moved to ready first
-- ARGV[4]     id
-- ARGV[5]     priority       0..99
-- ARGV[6]     delay_ms       >= 0
-- ARGV[7]     payload        bytes
-- Returns: 1 if pushed, 0 if the id was already present (nothing changed).
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/shard.lua

local shard = bind_shard_keys()
local now = check_now(ARGV[1])
local channel = ARGV[2]
local move_limit = check_int(ARGV[3], 'move_limit', 1, 100000)
local id = ARGV[4]
local priority = check_int(ARGV[5], 'priority', 0, 99)
local delay_ms = check_int(ARGV[6], 'delay_ms', 0, 2^45)
local payload = ARGV[7]

-- An id has a record exactly when it is in one of the four sets: HSETNX is the check and the
-- write in one call, and no set needs looking at.
if redis.call('HSETNX', shard.messages, id, make_record(priority, 0, '', now + delay_ms, payload)) == 0 then
  return 0
end
move_ready_by(shard, now, move_limit, NOT_KNOWN)
enqueue(shard, id, priority, now, delay_ms)
wake_consumers(channel)
return 1
