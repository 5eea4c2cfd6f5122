-- remove: delete a message wherever it is (ready, delayed, in flight, dead), record included.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     id
-- Returns: 1 if the message existed, else 0.
--!include lib/shard.lua

local shard = bind_shard_keys()
local id = ARGV[1]

redis.call('ZREM', shard.ready, id)
redis.call('ZREM', shard.delayed, id)
redis.call('ZREM', shard.in_flight, id)
redis.call('ZREM', shard.dead, id)
local existed = redis.call('HDEL', shard.messages, id)
forget_seq_if_ready_empty(shard)
return existed
