-- stats: how many messages of the shard are in each state, without changing anything.
-- Delayed messages already due count as ready.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/shard.lua)
-- ARGV[1]     now_ms  integer ms, or '' to read the server clock
-- Returns: {ready, delayed, in_flight, dead}
--!include lib/shard.lua

local shard = bind_shard_keys()
local now = check_now(ARGV[1])

local delayed = redis.call('ZCARD', shard.delayed)
local due = redis.call('ZCOUNT', shard.delayed, '-inf', now * TIME_SCALE + (TIME_SCALE - 1))
return {
  redis.call('ZCARD', shard.ready) + due,
  delayed - due,
  redis.call('ZCARD', shard.in_flight),
  redis.call('ZCARD', shard.dead),
}
