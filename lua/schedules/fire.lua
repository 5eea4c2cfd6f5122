-- fire: push the message of one schedule fire to its target shard unless that fire was pushed
-- before: neither its id is on the shard in any state (ensure) nor its marker is set. The
-- marker, a key under the shard's hash tag that outlives the message by marker_ttl_ms, is what
-- keeps a fire repeated after a crash from pushing again once the first message was consumed.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- KEYS[7]     marker         the fire's marker (a string with a TTL)
-- ARGV[1]     now_ms         integer ms, or '' to read the server clock
-- ARGV[2]     channel        pub/sub channel to wake waiting consumers, or ''
-- ARGV[3]     move_limit     max due/expired messages moved to ready first
-- ARGV[4]     id
-- ARGV[5]     priority       0..99
-- ARGV[6]     delay_ms       >= 0
-- ARGV[7]     payload        bytes
-- ARGV[8]     marker_ttl_ms  how long the marker lasts, >= 1
-- Returns: 1 if pushed, 0 if this fire was pushed before (nothing changed).
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/shard.lua

local shard = bind_shard_keys()
local marker = KEYS[7]
local now, past_us = check_now(ARGV[1])
local channel = ARGV[2]
local move_limit = check_int(ARGV[3], 'move_limit', 1, 100000)
local id = ARGV[4]
local priority = check_int(ARGV[5], 'priority', 0, 99)
local delay_ms = check_int(ARGV[6], 'delay_ms', 0, 2^45)
local payload = ARGV[7]
local marker_ttl_ms = check_int(ARGV[8], 'marker_ttl_ms', 1, 2^45)

if redis.call('EXISTS', marker) == 1 or redis.call('HEXISTS', shard.messages, id) == 1 then
  return 0
end
redis.call('SET', marker, '1', 'PX', marker_ttl_ms)
move_ready_by(shard, now, move_limit, 0)
local due_ms = due_after(now, past_us, delay_ms * 1000)
redis.call('HSET', shard.messages, id, make_record(priority, 0, '', due_ms, payload))
enqueue(shard, id, priority, now, due_ms)
wake_consumers(channel)
return 1
