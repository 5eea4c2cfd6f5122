-- set_unack_timeout: the lease of an in-flight message becomes now + lease_ms (a heartbeat; 0
-- makes it expire now, so the next pop or sweep hands it out again).
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms    integer ms, or '' to read the server clock
-- ARGV[2]     id
-- ARGV[3]     lease_ms  >= 0
-- Returns: 1 if the message is in flight (lease set), else 0.
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/shard.lua

local shard = bind_shard_keys()
local now = check_now(ARGV[1])
local id = ARGV[2]
local lease_ms = check_int(ARGV[3], 'lease_ms', 0, 2^45)

local score = redis.call('ZSCORE', shard.in_flight, id)
if not score then return 0 end
local priority = tonumber(score) % TIME_SCALE
redis.call('ZADD', shard.in_flight, (now + lease_ms) * TIME_SCALE + priority, id)
return 1
