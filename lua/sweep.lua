-- sweep: hand expired leases back (dead-lettering those delivered max_deliveries times) and move
-- due delayed messages to ready; at most `limit` of each per call, so a call never blocks Redis
-- for long: call again while it reports a full batch.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms          integer ms, or '' to read the server clock
-- ARGV[2]     channel         pub/sub channel to wake waiting consumers, or ''
-- ARGV[3]     limit           1..100000
-- ARGV[4]     max_deliveries  0 = unlimited
-- Returns: {requeued, dead_lettered, more} where more is 1 if a batch limit was reached.
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/shard.lua

local shard = bind_shard_keys()
local now = check_now(ARGV[1])
local channel = ARGV[2]
local limit = check_int(ARGV[3], 'limit', 1, 100000)
local max_deliveries = check_int(ARGV[4], 'max_deliveries', 0, 2^31)

local requeued, dead_lettered = move_ready_by(shard, now, limit, max_deliveries)
local top = now * TIME_SCALE + (TIME_SCALE - 1)
local more = 0
if redis.call('ZCOUNT', shard.in_flight, '-inf', top) > 0
  or redis.call('ZCOUNT', shard.delayed, '-inf', top) > 0 then
  more = 1
end
if requeued > 0 then wake_consumers(channel) end
return {requeued, dead_lettered, more}
